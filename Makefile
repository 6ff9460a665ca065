# Convoca: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
CATALOGUES := $(wildcard service/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
export FLASK_APP := wsgi

.PHONY: run test lint bench babel install browser deploy-tools calendar-tools clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed $(COMPILED)

%.mo: %.po
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

instance/config.py:
	@mkdir -p instance
	@echo "# Written by 'make run' on first start. Keep it private." > $@
	@echo "SECRET_KEY = \"$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')\"" >> $@
	@echo 'PUBLIC_URL = "http://127.0.0.1:5000"  # where links in mail point' >> $@
	@echo "wrote a new SECRET_KEY to $@"

# Links in mail point at the local server (a live site sets its own in CONVOCA_PUBLIC_URL).
run: export CONVOCA_PUBLIC_URL ?= http://127.0.0.1:5000
run: install instance/config.py
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@echo "Organisers' area: http://127.0.0.1:5000/organisers/ (first account: $(BIN)/flask organisers create you@example.org --admin)"
	CONVOCA_SCHEDULER_ENABLED=true $(BIN)/flask run --debug --host 127.0.0.1 --port 5000

# Debian's Chromium for the browser tests (Playwright's own download does not work here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] || [ -n "$$CI" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need /usr/bin/chromium: sudo apt-get install chromium"; fi; \
	fi

# nginx and Caddy, to check deploy/'s site files and serve the app through them, and shellcheck
# for its scripts (systemd-analyze comes with systemd). Installing nginx starts no server where
# a policy-rc.d forbids it (Docker).
deploy-tools:
	@if ! command -v nginx >/dev/null || ! command -v caddy >/dev/null || ! command -v shellcheck >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] || [ -n "$$CI" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx caddy shellcheck >/dev/null; \
	  else echo "deploy tests need nginx, caddy and shellcheck: sudo apt-get install nginx caddy shellcheck"; fi; \
	fi

# ical.js, the parser inside Thunderbird, Nextcloud and FullCalendar, to read our .ics as they do;
# axe-core, to check the pages' accessibility in the browser tests.
calendar-tools: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --silent
	@touch $@

test: install browser deploy-tools calendar-tools
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m service.catalogues

babel: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --project Convoca --copyright-holder "Convoca contributors" \
	  -o service/translations/messages.pot . 2>/dev/null
	$(BIN)/pybabel update -i service/translations/messages.pot -d service/translations \
	  --width 100 2>/dev/null

# Every scenario on the harness (bench/harness.py); e.g. BENCH_ARGS="--db sqlite --duration 2".
BENCH_SCENARIOS := registration statement event_page export reminders
bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@for scenario in $(BENCH_SCENARIOS); do $(BIN)/python bench/$$scenario.py $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache
