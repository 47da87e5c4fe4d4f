# make demo: venv, install, then prepare_demo (migrate, seed once or recompute, demo
# publication) and serve on 127.0.0.1:8000.
# make test: install what is needed (venv, packages, chromium) and run every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: demo test install lint lint-imports format system-packages postgres-up postgres-down clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q -p $(PY) --compile-bytecode -r requirements.lock
	$(VENV)/bin/uv pip install -q -p $(PY) --no-deps -e .
	$(PY) -m compileall -q -x '/(\.venv|tests|bench|node_modules)/' . >/dev/null
	touch $@

install: $(VENV)/.installed

demo: install
	DEBUG=1 $(PY) manage.py prepare_demo
	@echo "Demo at http://127.0.0.1:8000/  (users and passwords: README.md)"
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000 --noreload

# Browser tests need Debian's chromium; install it when it is missing.
system-packages:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing chromium from Debian"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; \
	fi

test: install system-packages lint-imports
	$(VENV)/bin/pytest -q

# The floors of docs/architecture.md, checked by import-linter (contracts in pyproject.toml).
lint-imports: install
	$(VENV)/bin/lint-imports

lint: install lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

postgres-up:
	bash scripts/services.sh start

postgres-down:
	bash scripts/services.sh stop

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles tests/artifacts
