"""Mail templates live in templates/email/<area>/: the outbox's template names follow

Messages queued before this revision name their template the old way ("reminder",
"signatories/confirm"…); the dispatcher renders each message from that name when it sends it,
so queued and sent rows are renamed too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

RENAMED = {
    "reminder": "reminders/reminder",
    "speaker_reminder": "reminders/speaker_reminder",
    "announcement": "registration/announcement",
    "test_message": "mail/test_message",
    "signatories/confirm": "statements/confirm",
    "signatories/confirmed": "statements/confirmed",
}

outbox = sa.table("outbox", sa.column("template", sa.String))


def _rename(names):
    for old, new in names.items():
        op.execute(outbox.update().where(outbox.c.template == old).values(template=new))


def upgrade():
    _rename(RENAMED)


def downgrade():
    _rename({new: old for old, new in RENAMED.items()})
