# ninerstatus: `make run` serves the site, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-test system-deps integration-services vendor-editor clean

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
	$(BIN)/ninerstatus demo --if-empty --site-url http://$(HOST):$(PORT)/
	scripts/run-site.sh $(BIN) --host $(HOST) --port $(PORT)

# Debian's postfix, dovecot, vsftpd, nginx, nsd and kamailio on 127.0.0.1 high
# ports for tests/integration; a no-op when they already run. They are left
# running between test runs (`tests/integration/services.sh stop` ends them).
integration-services: install-test
	NINERSTATUS_PYTHON=$(abspath $(BIN))/python tests/integration/services.sh start

test: install-test system-deps integration-services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Trix, the post editor, comes from the npm registry. Its built files are
# committed, so `make run` needs no npm; run this after changing TRIX_VERSION.
TRIX_VERSION ?= 2.1.19
TRIX_DIR := ninerstatus/static/vendor/trix

vendor-editor:
	rm -rf build/trix && mkdir -p build/trix $(TRIX_DIR)
	cd build/trix && npm pack --silent trix@$(TRIX_VERSION) >/dev/null && tar xzf trix-$(TRIX_VERSION).tgz
	cp build/trix/package/dist/trix.umd.min.js build/trix/package/dist/trix.css build/trix/package/LICENSE $(TRIX_DIR)/
	printf 'trix %s from the npm registry, %s\n' $(TRIX_VERSION) "$$(npm view trix@$(TRIX_VERSION) dist.integrity)" > $(TRIX_DIR)/SOURCE
	rm -rf build/trix

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
