"""An event's languages and interpreted channels; a registration's language followed, need of
interpretation and access needs (issue 16, points 4 and 5)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


# Made afresh each run: a Column belongs to the one table it was added to.
def event_columns():
    return (
        sa.Column('languages', sa.JSON(), nullable=False, server_default='[]'),
        sa.Column('interpretation_en', sa.String(length=300), nullable=False, server_default=''),
        sa.Column('interpretation_es', sa.String(length=300), nullable=False, server_default=''),
    )


def registration_columns():
    return (
        sa.Column('follows_language', sa.String(length=8), nullable=True),
        sa.Column('needs_interpretation', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('access_needs', sa.JSON(), nullable=False, server_default='[]'),
        sa.Column('access_needs_other', sa.String(length=300), nullable=False, server_default=''),
    )


def upgrade():
    # In place on SQLite (ALTER TABLE ... ADD COLUMN), never a batch copy: copying events or
    # registrations would drop the table, and everything referring to it with ON DELETE
    # CASCADE with it.
    added = (('events', event_columns()), ('registrations', registration_columns()))
    for table, columns in added:
        for column in columns:
            op.add_column(table, column)
    if op.get_context().dialect.name != 'sqlite':  # SQLite cannot drop a default in place
        for table, columns in added:
            for column in columns:
                if column.server_default is not None:
                    op.alter_column(table, column.name, server_default=None)


def downgrade():
    for column in reversed(registration_columns()):
        op.drop_column('registrations', column.name)
    for column in reversed(event_columns()):
        op.drop_column('events', column.name)
