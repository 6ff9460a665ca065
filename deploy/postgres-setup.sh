#!/bin/sh
# Convoca's PostgreSQL role and database: run as the postgres user,
#   sudo -u postgres /opt/convoca/deploy/postgres-setup.sh
# The role owns its database and nothing else (no superuser, cannot create roles or databases).
# Prints the DATABASE_URL for /etc/convoca/convoca.env: on the same host the convoca user logs
# in through the local socket with peer authentication, so there is no password to keep.
set -eu
DB_USER=${DB_USER:-convoca}
DB_NAME=${DB_NAME:-convoca}
createuser --no-superuser --no-createdb --no-createrole "$DB_USER"
createdb --owner="$DB_USER" --encoding=UTF8 --template=template0 "$DB_NAME"
echo "DATABASE_URL=postgresql+psycopg://$DB_USER@${PGHOST:-}/$DB_NAME"
