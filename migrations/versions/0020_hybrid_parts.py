"""Hybrid events: online places, and how each registrant takes part (issue 16, point 1)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # In place on SQLite, never a batch copy: copying registrations would drop the table, and
    # its answers and join clicks with it (ON DELETE CASCADE).
    op.add_column('events', sa.Column('online_capacity', sa.Integer(), nullable=True))
    if op.get_context().dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE registrations ADD COLUMN mode VARCHAR(20) NOT NULL DEFAULT 'in_person' "
            "CONSTRAINT ck_registrations_registrationmode CHECK (mode IN ('in_person', 'online'))"
        )
    else:
        op.add_column(
            'registrations',
            sa.Column(
                'mode',
                sa.Enum('in_person', 'online', name='registrationmode', native_enum=False, create_constraint=True, length=20),
                nullable=False,
                server_default='in_person',
            ),
        )
        op.alter_column('registrations', 'mode', server_default=None)
    # Until now a hybrid event had one capacity, the room's: its registrants keep their seats
    # there. Those of an online event take part online.
    op.execute(
        "UPDATE registrations SET mode = 'online' WHERE event_id IN "
        "(SELECT id FROM events WHERE format = 'online')"
    )


def downgrade():
    if op.get_context().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_registrations_registrationmode'), 'registrations', type_='check')
    op.drop_column('registrations', 'mode')
    op.drop_column('events', 'online_capacity')
