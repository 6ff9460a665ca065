"""Old event addresses that redirect, and the small ones (issue 15, point 8)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_slugs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_slugs_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_slugs')),
    sa.UniqueConstraint('slug', name=op.f('uq_event_slugs_slug'))
    )
    with op.batch_alter_table('event_slugs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_slugs_event_id'), ['event_id'], unique=False)


def downgrade():
    op.drop_table('event_slugs')
