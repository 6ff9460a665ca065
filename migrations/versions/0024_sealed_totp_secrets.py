"""Second-factor secrets are kept sealed, not in plain text

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 07:00:00.000000

Each stored TOTP secret is encrypted with Fernet under a key derived from SECRET_KEY by
HKDF-SHA256, as ``service.security.seal`` does (written out here, so that this revision keeps
doing what it did whatever that function becomes). Run it with the SECRET_KEY the app runs
with: under another key the secrets cannot be opened, and those accounts log in with a
recovery code and set up their app again. Downgrading opens them again.
"""

import base64

from alembic import op
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

organisers = sa.table(
    "organisers", sa.column("id", sa.Integer()), sa.column("totp_secret", sa.String(200))
)


def _fernet():
    key = current_app.config["SECRET_KEY"]
    material = key if isinstance(key, bytes) else key.encode()
    derived = HKDF(
        algorithm=SHA256(), length=32, salt=None, info=b"convoca: secrets kept in the database"
    ).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))


def _rewrite(change):
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(organisers.c.id, organisers.c.totp_secret).where(
            organisers.c.totp_secret.is_not(None)
        )
    ).all()
    for organiser_id, secret in rows:
        connection.execute(
            organisers.update()
            .where(organisers.c.id == organiser_id)
            .values(totp_secret=change(secret))
        )


def upgrade():
    fernet = _fernet()
    _rewrite(lambda secret: fernet.encrypt(secret.encode()).decode())


def downgrade():
    fernet = _fernet()

    def opened(sealed):
        try:
            return fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:  # sealed under another key: the account sets up its app again
            return None

    _rewrite(opened)
