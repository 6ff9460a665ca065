"""Each word of a signatory's name keeps what the public list filters and sorts its signature
by (listed, featured, confirmation time, sort key), so a search's rows and count are one range
of ix_signature_words_listed and never visit signatures.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COPIED = {
    'listed': "signatures.status = 'approved' AND signatures.show_name",
    'featured': 'signatures.featured',
    'confirmed_at': 'signatures.confirmed_at',
    'sort_key': 'signatures.sort_key',
}


def upgrade():
    with op.batch_alter_table('signature_words', schema=None) as batch_op:
        batch_op.add_column(sa.Column('listed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('featured', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sort_key', sa.String(length=200), server_default='', nullable=False))
    # Existing words take their signature's state (correlated subqueries: both databases).
    op.execute(
        'UPDATE signature_words SET '
        + ', '.join(
            f'{column} = (SELECT {value} FROM signatures WHERE signatures.id = signature_words.signature_id)'
            for column, value in COPIED.items()
        )
    )
    with op.batch_alter_table('signature_words', schema=None) as batch_op:
        batch_op.create_index('ix_signature_words_listed', ['statement_id', 'listed', 'word', 'featured', 'confirmed_at', 'sort_key', 'signature_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signature_words', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_words_listed')
        batch_op.drop_column('sort_key')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('featured')
        batch_op.drop_column('listed')
