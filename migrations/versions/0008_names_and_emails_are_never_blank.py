"""Names and emails are never blank

Before this revision a value of only spaces passed the forms, was trimmed to '' and stored: a
registration with no address took a seat, and mail to '' was queued. This revision removes
such rows (with their answers, link uses, name words and mail), says how many, and makes the
database refuse them: CHECK constraints on PostgreSQL; on SQLite, which cannot add a
constraint to a table without rebuilding it (and a rebuild under foreign keys would cascade
into the rows that refer to it), triggers that abort the same inserts and updates.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00

"""
import logging

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

NOT_BLANK = {
    "registrations": ("name", "email"),
    "signatures": ("name", "email"),
    "organisers": ("email",),
    "outbox": ("recipient",),
}


def upgrade():
    connection = op.get_bind()
    _remove_blank_rows(connection)
    for table, columns in NOT_BLANK.items():
        for column in columns:
            name = f"ck_{table}_{column}_not_blank"
            rule = f"trim({column}) <> ''"
            if connection.dialect.name == "sqlite":
                for action in ("insert", "update"):
                    op.execute(
                        f"CREATE TRIGGER {name}_{action} BEFORE {action.upper()} ON {table} "
                        f"WHEN NOT (trim(NEW.{column}) <> '') "
                        f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
                    )
            else:
                op.create_check_constraint(name, table, sa.text(rule))


def _remove_blank_rows(connection):
    blank = {
        table: " OR ".join(f"trim({column}) = ''" for column in columns)
        for table, columns in NOT_BLANK.items()
    }
    removed = {}
    # Their mail first: the outbox names a registration or a signature in its params.
    for table, key in (("registrations", "registration_id"), ("signatures", "signature_id")):
        ids = [row[0] for row in connection.execute(sa.text(f"SELECT id FROM {table} WHERE {blank[table]}"))]
        if not ids:
            continue
        outbox = sa.table("outbox", sa.column("id"), sa.column("params", sa.JSON))
        connection.execute(
            outbox.delete().where(outbox.c.params[key].as_integer().in_(ids))
        )
    for table in ("answers", "join_clicks"):
        connection.execute(
            sa.text(
                f"DELETE FROM {table} WHERE registration_id IN "
                f"(SELECT id FROM registrations WHERE {blank['registrations']})"
            )
        )
    connection.execute(
        sa.text(
            "DELETE FROM signature_words WHERE signature_id IN "
            f"(SELECT id FROM signatures WHERE {blank['signatures']})"
        )
    )
    for table in NOT_BLANK:
        removed[table] = connection.execute(sa.text(f"DELETE FROM {table} WHERE {blank[table]}")).rowcount
    log.info(
        "removed rows with a blank name or email: %s",
        ", ".join(f"{count} from {table}" for table, count in removed.items()),
    )


def downgrade():
    connection = op.get_bind()
    for table, columns in NOT_BLANK.items():
        for column in columns:
            name = f"ck_{table}_{column}_not_blank"
            if connection.dialect.name == "sqlite":
                for action in ("insert", "update"):
                    op.execute(f"DROP TRIGGER {name}_{action}")
            else:
                op.drop_constraint(name, table, type_="check")
