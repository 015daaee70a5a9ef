# ninerstatus: `make run` serves the site, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-test system-deps clean

# A stamp per install flavour, remade when the package metadata changes.
$(VENV)/.installed: setup.cfg pyproject.toml
	scripts/system-deps.sh venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

system-deps:
	scripts/system-deps.sh test

run: install
	$(BIN)/ninerstatus init
	$(BIN)/ninerstatus db upgrade
	$(BIN)/ninerstatus demo --if-empty
	$(BIN)/ninerstatus serve --host $(HOST) --port $(PORT)

test: install-test system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
