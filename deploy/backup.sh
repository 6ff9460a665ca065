#!/bin/sh
# Convoca's backup, as convoca-backup.service runs it every night: SQLite through
# `flask backup` (the online backup API, then a check of the copy), PostgreSQL through
# pg_dump (custom format, then a check that pg_restore can read it). Keeps the newest
# $BACKUP_KEEP backups in $BACKUP_DIR. The copies hold personal data: mode 0600.
set -eu
BACKUP_DIR=${BACKUP_DIR:-/var/backups/convoca}
BACKUP_KEEP=${BACKUP_KEEP:-14}
FLASK=${FLASK:-/opt/convoca/.venv/bin/flask}
DATABASE_URL=${DATABASE_URL:-${CONVOCA_DATABASE_URL:-}}

case "$DATABASE_URL" in
postgres*)
	# pg_dump takes the URL without SQLAlchemy's driver name; a password comes from ~/.pgpass.
	url=$(printf '%s' "$DATABASE_URL" | sed -e 's|^postgresql+psycopg://|postgresql://|' -e 's|^postgres://|postgresql://|')
	file="$BACKUP_DIR/convoca-$(date -u +%Y%m%d-%H%M%S).dump"
	umask 077
	pg_dump --format=custom --file="$file.partial" "$url"
	pg_restore --list "$file.partial" >/dev/null
	mv "$file.partial" "$file"
	echo "wrote $file"
	# The oldest beyond $BACKUP_KEEP go (the glob sorts the names, and so their times).
	set -- "$BACKUP_DIR"/convoca-*.dump
	while [ "$#" -gt "$BACKUP_KEEP" ]; do
		rm -- "$1"
		shift
	done
	;;
*)
	exec "$FLASK" backup "$BACKUP_DIR" --keep "$BACKUP_KEEP"
	;;
esac
