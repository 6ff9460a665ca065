"""A hybrid registrant waiting for a place in the other part (issue 16, point 1: switching)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    # In place on SQLite, never a batch copy: copying registrations would drop the table, and
    # its answers and join clicks with it (ON DELETE CASCADE).
    if op.get_context().dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE registrations ADD COLUMN wants_mode VARCHAR(20) "
            "CONSTRAINT ck_registrations_wantedmode CHECK (wants_mode IN ('in_person', 'online'))"
        )
    else:
        op.add_column(
            'registrations',
            sa.Column(
                'wants_mode',
                sa.Enum('in_person', 'online', name='wantedmode', native_enum=False, create_constraint=True, length=20),
                nullable=True,
            ),
        )
    op.add_column('registrations', sa.Column('wants_mode_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    if op.get_context().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_registrations_wantedmode'), 'registrations', type_='check')
    op.drop_column('registrations', 'wants_mode_at')
    op.drop_column('registrations', 'wants_mode')
