"""Follow-ups after a meeting, and the event a signature came from (issue 16, point 3)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'follow_ups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('recording_url', sa.String(length=1000), nullable=False),
        sa.Column('slides_url', sa.String(length=1000), nullable=False),
        sa.Column('statement_id', sa.Integer(), nullable=True),
        sa.Column('send_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_follow_ups_event_id_events'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_follow_ups_statement_id_statements'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
        sa.UniqueConstraint('event_id', name=op.f('uq_follow_ups_event_id')),
    )
    op.create_index(op.f('ix_follow_ups_send_at'), 'follow_ups', ['send_at'], unique=False)
    op.create_table(
        'follow_up_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('follow_up_id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.Enum('attended', 'missed', name='audience', native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('subject_es', sa.String(length=300), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_es', sa.Text(), nullable=True),
        sa.Column('with_recording', sa.Boolean(), nullable=False),
        sa.Column('with_slides', sa.Boolean(), nullable=False),
        sa.Column('with_sign', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_follow_up_versions_follow_up_id_follow_ups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_versions')),
        sa.UniqueConstraint('follow_up_id', 'audience', name=op.f('uq_follow_up_versions_follow_up_id')),
    )
    # In place on SQLite, never a batch copy: copying signatures would drop the table, and
    # the words of every name with it (ON DELETE CASCADE). As 0019 does.
    if op.get_context().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE signatures ADD COLUMN source_event_id INTEGER '
            'CONSTRAINT fk_signatures_source_event_id_events REFERENCES events (id)'
        )
    else:
        op.add_column('signatures', sa.Column('source_event_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_signatures_source_event_id_events'), 'signatures', 'events',
            ['source_event_id'], ['id'],
        )
    op.create_index(
        'ix_signatures_source_event', 'signatures', ['statement_id', 'source_event_id', 'status'],
        unique=False,
        sqlite_where=sa.text('source_event_id IS NOT NULL'),
        postgresql_where=sa.text('source_event_id IS NOT NULL'),
    )


def downgrade():
    op.drop_index('ix_signatures_source_event', table_name='signatures')
    if op.get_context().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_signatures_source_event_id_events'), 'signatures', type_='foreignkey')
    op.drop_column('signatures', 'source_event_id')
    op.drop_table('follow_up_versions')
    op.drop_index(op.f('ix_follow_ups_send_at'), table_name='follow_ups')
    op.drop_table('follow_ups')
