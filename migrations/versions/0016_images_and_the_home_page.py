"""Images for events and statements, the home page's introduction and the logo (issue 15, point 5)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('widths', sa.JSON(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('alt', sa.String(length=300), nullable=False),
    sa.Column('alt_es', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_images'))
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_images_hash'), ['hash'], unique=False)

    op.create_table('site_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('introduction', sa.Text(), nullable=False),
    sa.Column('introduction_es', sa.Text(), nullable=True),
    sa.Column('logo_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['logo_id'], ['images.id'], name=op.f('fk_site_settings_logo_id_images')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_settings'))
    )

    # No batch mode on SQLite: its table copy drops the old table, and with foreign keys on
    # that deletes every registration and signature by cascade. A column constraint can be
    # added (and dropped) in place; SQLAlchemy reads no ON DELETE from one, so there is none
    # (media.service.apply_image_choice lets go of an image before deleting it).
    for table in ('events', 'statements'):
        if op.get_context().dialect.name == 'sqlite':
            op.execute(
                f'ALTER TABLE {table} ADD COLUMN image_id INTEGER CONSTRAINT fk_{table}_image_id_images '
                'REFERENCES images (id)'
            )
        else:
            op.add_column(table, sa.Column('image_id', sa.Integer(), nullable=True))
            op.create_foreign_key(op.f(f'fk_{table}_image_id_images'), table, 'images', ['image_id'], ['id'])


def downgrade():
    for table in ('statements', 'events'):
        if op.get_context().dialect.name != 'sqlite':
            op.drop_constraint(op.f(f'fk_{table}_image_id_images'), table, type_='foreignkey')
        op.drop_column(table, 'image_id')
    op.drop_table('site_settings')
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_images_hash'))
    op.drop_table('images')
