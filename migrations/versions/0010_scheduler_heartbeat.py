"""The scheduler's heartbeat, and what the site observes about its proxies

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_heartbeats',
    sa.Column('process', sa.String(length=255), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('process', name=op.f('pk_scheduler_heartbeats'))
    )
    op.create_table('ops_observations',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_ops_observations'))
    )


def downgrade():
    op.drop_table('ops_observations')
    op.drop_table('scheduler_heartbeats')
