# The README's two commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck imports pytest constraints clean ui server screenshots bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs are pinned by constraints.txt, a known-good set (regenerate with `make constraints`).
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install $(PIP_FLAGS) -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install $(PIP_FLAGS) -c constraints.txt -e '.[dev,ray]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/workbench demo

# The MLflow UI for the embedded store the demo and wb.compare(..., experiment=...) write here.
UI_PORT ?= 5000
ui: $(VENV)/.installed
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port $(UI_PORT)

# A team MLflow server (README, "Team MLflow server"): runs and metrics in PostgreSQL, artifacts
# uploaded through the server (proxied) into ARTIFACTS_DESTINATION. No password in the URI: psycopg2
# reads PGPASSWORD or ~/.pgpass. Binds 127.0.0.1 unless SERVER_HOST says otherwise; put it behind
# your TLS/auth proxy and set SERVER_ALLOWED_HOSTS to the names clients use.
BACKEND_STORE_URI ?= postgresql+psycopg2://mlflow@127.0.0.1:5432/mlflow
ARTIFACTS_DESTINATION ?= ./mlartifacts
SERVER_HOST ?= 127.0.0.1
SERVER_PORT ?= 5000
SERVER_WORKERS ?= 4
SERVER_ALLOWED_HOSTS ?= localhost,127.0.0.1,localhost:$(SERVER_PORT),127.0.0.1:$(SERVER_PORT)
server: $(VENV)/.installed
	$(BIN)/mlflow server --backend-store-uri '$(BACKEND_STORE_URI)' \
		--artifacts-destination '$(ARTIFACTS_DESTINATION)' --serve-artifacts \
		--host $(SERVER_HOST) --port $(SERVER_PORT) --workers $(SERVER_WORKERS) \
		--allowed-hosts '$(SERVER_ALLOWED_HOSTS)'

# The suite on TEST_WORKERS processes (pytest-xdist; each file's tests stay on one worker).
# `.venv/bin/pytest` alone runs it in one process.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy workbench
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy workbench

# README screenshots (results explorer, quality vs cost, the comparison builder after Plan / Run /
# Cancel / resume) from notebooks/01_quickstart.ipynb run in
# a throwaway JupyterLab with headless Chromium (Debian's `chromium`).
screenshots: $(VENV)/.installed-dev
	$(BIN)/python scripts/screenshots.py --out docs/images

# The figures of the README's performance section (#23): workbench against raw litellm and
# mlflow.genai.evaluate on one fake server (≈ 4 min), then 100k cases × 4 configurations run,
# logged and reported (≈ 10 min, 1.4 GB). SCALE_CASES=2000 for a quick look.
SCALE_CASES ?= 100000
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/peer.py
	$(BIN)/python benchmarks/scale.py --cases $(SCALE_CASES)

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest $(ARGS)

# Rewrite constraints.txt from what is installed in .venv (after changing dependencies).
constraints: $(VENV)/.installed-dev
	$(PIP) freeze --exclude-editable | grep -v '^workbench' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
