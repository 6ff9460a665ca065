"""Speakers' photos, from their own page (issue 15, point 6)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # As 0016 does for events and statements: in place on SQLite, never a batch copy.
    if op.get_context().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE event_people ADD COLUMN photo_id INTEGER '
            'CONSTRAINT fk_event_people_photo_id_images REFERENCES images (id)'
        )
    else:
        op.add_column('event_people', sa.Column('photo_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_event_people_photo_id_images'), 'event_people', 'images', ['photo_id'], ['id']
        )


def downgrade():
    if op.get_context().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_event_people_photo_id_images'), 'event_people', type_='foreignkey')
    op.drop_column('event_people', 'photo_id')
