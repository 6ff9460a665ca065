"""Changes people hear about; cancelling with a message and reinstating (issue 15, points 1 and 2)

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
    pass


def downgrade():
    pass
