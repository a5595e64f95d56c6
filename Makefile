# WealthScore: `make demo` and `make test` do all set-up on a fresh machine (README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test bench lint format setup

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Front-end libraries from the npm registry (pinned in package-lock.json), served as static
# files: no CDN on a bank intranet. htmx comes with django-htmx.
VENDOR := static/vendor/echarts.min.js
$(VENDOR): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)

setup: $(STAMP) $(VENDOR)
	$(PY) manage.py compilemessages --ignore '.venv' --ignore 'node_modules' -v0

demo: setup
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py demo --reset
	@echo "Serving the demo on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	WEALTHSCORE_BACKGROUND_TASKS=1 $(PY) manage.py runserver $(HOST):$(PORT) --noreload

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy wealthscore targets scorecards crm compliance
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
