#!/bin/sh
# Lays out Convoca on a Debian machine, as root, with the code already in /opt/convoca:
#   /opt/convoca/deploy/install.sh
# Safe to run again: it never replaces /etc/convoca/convoca.env or a file you changed
# (a changed unit or site file gets a .new beside it instead). DESTDIR=/some/root lays the
# same files out under another root and skips what needs the real machine (the user and
# ownership, the venv and the compiled Spanish catalogue, systemctl): the test suite checks
# the result with systemd-analyze.
set -eu
APP_DIR=/opt/convoca
DESTDIR=${DESTDIR:-}
SOURCE=$(cd "$(dirname "$0")/.." && pwd)

place() { # place MODE FILE TARGET: install FILE, or FILE.new beside a TARGET that differs
	if [ -e "$3" ] && ! cmp -s "$2" "$3"; then
		install -m "$1" "$2" "$3.new"
		echo "kept your $3; the new version is $3.new"
	else
		install -m "$1" "$2" "$3"
	fi
}

if [ -z "$DESTDIR" ] && ! id convoca >/dev/null 2>&1; then
	useradd --system --home-dir /var/lib/convoca --shell /usr/sbin/nologin convoca
fi
install -d -m 0750 "$DESTDIR/var/lib/convoca" "$DESTDIR/var/backups/convoca" "$DESTDIR/etc/convoca"
install -d -m 0755 "$DESTDIR/etc/systemd/system" "$DESTDIR/usr/local/bin" \
	"$DESTDIR/etc/nginx/sites-available"
if [ -z "$DESTDIR" ]; then
	chown convoca:convoca /var/lib/convoca /var/backups/convoca
	chgrp convoca /etc/convoca
fi

env_file="$DESTDIR/etc/convoca/convoca.env"
if [ ! -e "$env_file" ]; then
	secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
	(umask 027 && sed "s/^CONVOCA_SECRET_KEY=.*/CONVOCA_SECRET_KEY=$secret/" \
		"$SOURCE/deploy/convoca.env" >"$env_file")
	[ -n "$DESTDIR" ] || chgrp convoca "$env_file"
	echo "wrote $env_file with a new secret key: edit the rest of it"
fi

for unit in "$SOURCE"/deploy/systemd/*; do
	place 0644 "$unit" "$DESTDIR/etc/systemd/system/$(basename "$unit")"
done
place 0755 "$SOURCE/deploy/convoca-flask" "$DESTDIR/usr/local/bin/convoca-flask"
place 0644 "$SOURCE/deploy/nginx/convoca.conf" "$DESTDIR/etc/nginx/sites-available/convoca"

if [ -z "$DESTDIR" ]; then
	# Debian's own Python: one under /root or /usr/local (pyenv) is not the service user's.
	[ -x "$APP_DIR/.venv/bin/gunicorn" ] || /usr/bin/python3 -m venv "$APP_DIR/.venv"
	# Editable: the services run the code in $APP_DIR (templates and static files live there).
	"$APP_DIR/.venv/bin/pip" install --quiet --editable "$APP_DIR"
	"$APP_DIR/.venv/bin/pybabel" compile --statistics -d "$APP_DIR/service/translations"
	systemctl daemon-reload
fi
echo "installed; next: docs/deploy.md, step 2"
