# The two commands a newcomer types: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= $(CURDIR)/.demo-vault
# The demo vault's password; documented in README, never used for real data.
DEMO_PASSWORD ?= demo-passwort

.PHONY: run test lint bench bench-server bundle clean venv

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev,server,installer]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	test -f $(DEMO_DIR)/vault-header.json || KIMDESK_PASSWORD=$(DEMO_PASSWORD) $(BIN)/kimdesk demo --data-dir $(DEMO_DIR)
	$(BIN)/kimdesk gui --demo --data-dir $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/ruff check kimdesk tests benchmarks
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check kimdesk tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/vault_open.py
	$(BIN)/python benchmarks/client_search.py
	$(BIN)/python benchmarks/import_clients.py
	$(BIN)/python benchmarks/demo_build.py
	$(BIN)/python benchmarks/sqlcipher_cost.py
	$(BIN)/python benchmarks/ui_speed.py
	$(BIN)/python benchmarks/stats_report.py
	$(BIN)/python benchmarks/sync_full.py
	$(BIN)/python benchmarks/server_load.py

# The county server under an open-loop load (issue 17): 1,000 devices, one sync a minute, 30 min
# each on SQLite and on PostgreSQL with 2 workers, then the saturation throughput (~75 min in
# all; on an otherwise idle machine). Not part of `make bench`.
bench-server: $(STAMP)
	$(BIN)/python benchmarks/server_load_open.py
	$(BIN)/python benchmarks/server_load_open.py --pg auto --workers 2
	$(BIN)/python benchmarks/server_load_open.py --pg auto --workers 2 --devices 300 --saturate

# The installation package for Team Nord (installer/build.py: other teams with --team).
bundle: $(STAMP)
	$(BIN)/python installer/build.py --team nord

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache build/installer dist
