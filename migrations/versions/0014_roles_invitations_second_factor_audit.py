"""Organiser teams: roles per event and per statement, invitations, a second factor, an
audit record (issue 14)

Existing accounts that are not admins keep what they could do until now: each becomes a
manager of every event and statement that exists. An admin can narrow that afterwards.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:58:27.544299

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    _upgrade_access()
    _upgrade_second_factor()
    _upgrade_audit()


def downgrade():
    _downgrade_audit()
    _downgrade_second_factor()
    _downgrade_access()


# --- roles and invitations (service/access) ---------------------------------------------


def _upgrade_access():
    op.create_table('event_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('manager', 'door', 'viewer', name='eventrole', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_members_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_event_members_organiser_id_organisers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_members')),
    sa.UniqueConstraint('event_id', 'organiser_id', name=op.f('uq_event_members_event_id'))
    )
    with op.batch_alter_table('event_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_members_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('statement_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('manager', 'moderator', name='statementrole', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_statement_members_organiser_id_organisers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_members_statement_id_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_members')),
    sa.UniqueConstraint('statement_id', 'organiser_id', name=op.f('uq_statement_members_statement_id'))
    )
    with op.batch_alter_table('statement_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_members_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('link_secret', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['organisers.id'], name=op.f('fk_invitations_invited_by_id_organisers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_email'), ['email'], unique=False)

    op.create_table('invited_event_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('manager', 'door', 'viewer', name='eventrole', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_invited_event_roles_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_invited_event_roles_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invited_event_roles')),
    sa.UniqueConstraint('invitation_id', 'event_id', name=op.f('uq_invited_event_roles_invitation_id'))
    )
    with op.batch_alter_table('invited_event_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invited_event_roles_event_id'), ['event_id'], unique=False)

    op.create_table('invited_statement_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('manager', 'moderator', name='statementrole', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_invited_statement_roles_invitation_id_invitations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_invited_statement_roles_statement_id_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invited_statement_roles')),
    sa.UniqueConstraint('invitation_id', 'statement_id', name=op.f('uq_invited_statement_roles_invitation_id'))
    )
    with op.batch_alter_table('invited_statement_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invited_statement_roles_statement_id'), ['statement_id'], unique=False)
    op.execute(
        "INSERT INTO event_members (event_id, organiser_id, role, created_at)"
        " SELECT events.id, organisers.id, 'manager', CURRENT_TIMESTAMP"
        " FROM events CROSS JOIN organisers WHERE NOT organisers.is_admin"
    )
    op.execute(
        "INSERT INTO statement_members (statement_id, organiser_id, role, created_at)"
        " SELECT statements.id, organisers.id, 'manager', CURRENT_TIMESTAMP"
        " FROM statements CROSS JOIN organisers WHERE NOT organisers.is_admin"
    )


def _downgrade_access():
    for table in (
        'invited_statement_roles',
        'invited_event_roles',
        'invitations',
        'statement_members',
        'event_members',
    ):
        op.drop_table(table)


# --- the second factor and recovery codes (service/organisers) ------------------------------


def _upgrade_second_factor():
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_recovery_codes_organiser_id_organisers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_organiser_id'), ['organiser_id'], unique=False)

    # Plain ALTER TABLE, not a batch: SQLite's copy of the table would lose 0008's triggers.
    op.add_column('organisers', sa.Column('totp_secret', sa.String(length=200), nullable=True))
    op.add_column('organisers', sa.Column('totp_confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('organisers', sa.Column('totp_last_step', sa.Integer(), nullable=True))


def _downgrade_second_factor():
    op.drop_table('recovery_codes')
    for column in ('totp_last_step', 'totp_confirmed_at', 'totp_secret'):
        op.drop_column('organisers', column)


# --- the audit record (service/audit) -------------------------------------------------------


def _upgrade_audit():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('statement_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_audit_entries_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_audit_entries_organiser_id_organisers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_audit_entries_statement_id_statements'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action_at', ['action', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_organiser_id'), ['organiser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_statement_id'), ['statement_id'], unique=False)


def _downgrade_audit():
    op.drop_table('audit_entries')
