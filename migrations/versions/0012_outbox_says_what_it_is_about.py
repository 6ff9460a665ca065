"""The outbox says what each message is about: event, registration and signature columns

Until now other areas found a message by its JSON params or by the shape of its dedupe key.
Existing rows are filled from both (a Python pass over the rows: SQLite's and PostgreSQL's
JSON functions differ), keeping only ids whose row still exists. Key formats at 0011:

    confirmation|waiting_list|cancelled|promoted:<registration>:...
    event_changed|event_cancelled:<event>:<sequence>:<registration>
    reminder:<event>:<start>:<minutes>:<registration>
    speaker_reminder:<event>:<start>:<minutes>:<person>
    announcement:<announcement>:<registration>
    signature:<signature>:...

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 14:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = (
    ('event_id', 'events'),
    ('registration_id', 'registrations'),
    ('signature_id', 'signatures'),
)
REGISTRATION_KEYS = {'confirmation', 'waiting_list', 'cancelled', 'promoted'}
EVENT_UPDATE_KEYS = {'event_changed', 'event_cancelled'}


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        for column, table in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_outbox_{column}'), [column], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f'fk_outbox_{column}_{table}'), table, [column], ['id'],
                ondelete='SET NULL',
            )
    _restore_sqlite_triggers()
    _fill()


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        for column, table in reversed(COLUMNS):
            batch_op.drop_constraint(batch_op.f(f'fk_outbox_{column}_{table}'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_outbox_{column}'))
            batch_op.drop_column(column)
    _restore_sqlite_triggers()


def _restore_sqlite_triggers():
    """On SQLite the batch above rebuilt the table, dropping 0008's not-blank triggers."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    name = 'ck_outbox_recipient_not_blank'
    for action in ('insert', 'update'):
        op.execute(
            f"CREATE TRIGGER {name}_{action} BEFORE {action.upper()} ON outbox "
            f"WHEN NOT (trim(NEW.recipient) <> '') "
            f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
        )


def _number(value):
    """An id from params or a key part, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def about(dedupe_key, params):
    """(event, registration, signature, announcement) ids a 0011 message names."""
    params = params if isinstance(params, dict) else {}
    event = _number(params.get('event_id'))
    registration = _number(params.get('registration_id'))
    signature = _number(params.get('signature_id'))
    announcement = _number(params.get('announcement_id'))
    parts = dedupe_key.split(':')
    head = parts[0]
    if head in REGISTRATION_KEYS and len(parts) > 1:
        registration = registration or _number(parts[1])
    elif head in EVENT_UPDATE_KEYS and len(parts) > 3:
        event = event or _number(parts[1])
        registration = registration or _number(parts[3])
    elif head in {'reminder', 'speaker_reminder'} and len(parts) > 1:
        event = event or _number(parts[1])
        if head == 'reminder':
            registration = registration or _number(parts[-1])
    elif head == 'announcement' and len(parts) > 2:
        announcement = announcement or _number(parts[1])
        registration = registration or _number(parts[2])
    elif head == 'signature' and len(parts) > 1:
        signature = signature or _number(parts[1])
    return event, registration, signature, announcement


def _fill():
    connection = op.get_bind()
    outbox = sa.table(
        'outbox', sa.column('id', sa.Integer), sa.column('dedupe_key', sa.String),
        sa.column('params', sa.JSON), *(sa.column(column, sa.Integer) for column, _ in COLUMNS),
    )
    events = set(connection.scalars(sa.text('SELECT id FROM events')))
    registration_events = dict(
        connection.execute(sa.text('SELECT id, event_id FROM registrations')).all()
    )
    signatures = set(connection.scalars(sa.text('SELECT id FROM signatures')))
    announcement_events = dict(
        connection.execute(sa.text('SELECT id, event_id FROM announcements')).all()
    )
    updates = []
    for row_id, dedupe_key, params in connection.execute(
        sa.select(outbox.c.id, outbox.c.dedupe_key, outbox.c.params)
    ):
        event, registration, signature, announcement = about(dedupe_key, params)
        if registration not in registration_events:
            registration = None
        event = (
            event
            or registration_events.get(registration)
            or announcement_events.get(announcement)
        )
        values = {
            'new_event_id': event if event in events else None,
            'new_registration_id': registration,
            'new_signature_id': signature if signature in signatures else None,
        }
        if any(value is not None for value in values.values()):
            updates.append({'row_id': row_id, **values})
    if updates:
        connection.execute(
            outbox.update().where(outbox.c.id == sa.bindparam('row_id')).values(
                event_id=sa.bindparam('new_event_id'),
                registration_id=sa.bindparam('new_registration_id'),
                signature_id=sa.bindparam('new_signature_id'),
            ),
            updates,
        )
