"""The door: check-in on a phone, undo, the QR link (issue 15, point 4)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
