"""Copies and series of events (issue 15, point 3)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_es', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_series')),
    sa.UniqueConstraint('slug', name=op.f('uq_event_series_slug'))
    )
    # Plain ALTER TABLE with the reference inline, not a batch: SQLite's copy of the table
    # would drop the events table under its registrations (whose rows cascade), and an inline
    # reference is one that SQLite's DROP COLUMN can take away again. (SQLite does not read
    # back the ON DELETE of an inline reference, so there is none: a series is never deleted.)
    op.add_column('events', sa.Column(
        'series_id',
        sa.Integer(),
        sa.ForeignKey('event_series.id', name=op.f('fk_events_series_id_event_series')),
        nullable=True,
    ), inline_references=op.get_bind().dialect.name == 'sqlite')
    op.create_index(op.f('ix_events_series_id'), 'events', ['series_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_events_series_id'), table_name='events')
    op.drop_column('events', 'series_id')
    op.drop_table('event_series')
