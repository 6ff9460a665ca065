"""Unsubscriptions keep a keyed hash of the address, not the address

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 09:30:00.000000

Each stored address becomes HMAC-SHA256(SECRET_KEY, normalised address) in hex, as
``service.mail.service.address_hash`` computes it (written out here, so that this revision
keeps doing what it did whatever that function becomes). Run it with the SECRET_KEY the app
runs with: under another key the hashes match no address, and those unsubscriptions are lost.
Downgrading cannot bring the addresses back: it empties the table.
"""

import hashlib
import hmac

from alembic import op
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _address_hash(key, address):
    key = key if isinstance(key, bytes) else key.encode()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


def upgrade():
    with op.batch_alter_table("unsubscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))

    unsubscriptions = sa.table(
        "unsubscriptions",
        sa.column("id", sa.Integer()),
        sa.column("email", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("address_hash", sa.String()),
    )
    connection = op.get_bind()
    key = current_app.config["SECRET_KEY"]
    seen = set()
    for row_id, email, kind in connection.execute(
        sa.select(unsubscriptions.c.id, unsubscriptions.c.email, unsubscriptions.c.kind).order_by(
            unsubscriptions.c.id
        )
    ):
        hashed = _address_hash(key, email)
        if (hashed, kind) in seen:  # the same address stored twice in different spellings
            connection.execute(unsubscriptions.delete().where(unsubscriptions.c.id == row_id))
            continue
        seen.add((hashed, kind))
        connection.execute(
            unsubscriptions.update()
            .where(unsubscriptions.c.id == row_id)
            .values(address_hash=hashed)
        )

    with op.batch_alter_table("unsubscriptions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_unsubscriptions_email", type_="unique")
        batch_op.drop_column("email")
        batch_op.alter_column("address_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_unsubscriptions_address_hash"), ["address_hash", "kind"]
        )


def downgrade():
    op.execute("DELETE FROM unsubscriptions")
    with op.batch_alter_table("unsubscriptions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_unsubscriptions_address_hash", type_="unique")
        batch_op.drop_column("address_hash")
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=False))
        batch_op.create_unique_constraint(batch_op.f("uq_unsubscriptions_email"), ["email", "kind"])
