# Herald's front door. `make up` runs everything; `make test` runs the suite.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
UV_BIN := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
UV := $(UV_BIN)
# The first Python >= 3.11 that actually runs here (uv must never download one).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v $$p && break; done)

.PHONY: install up test fuzz bench lint fmt migrate clean

$(UV):
	@echo "uv not found: installing it into .tools/ with pip"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

up: install
	$(UV) run --frozen herald up

# The suite includes the API fuzzer (tests/fuzz) at a small fixed budget per operation.
test: install
	$(UV) run --frozen pytest

# The fuzzer alone, longer: FUZZ_EXAMPLES cases per operation, FUZZ_SEED to explore elsewhere,
# STRICT=1 to also check that schema-valid requests are accepted and invalid ones refused.
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= 20261201
STRICT ?= 0
fuzz: install
	HERALD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HERALD_FUZZ_SEED=$(FUZZ_SEED) HERALD_FUZZ_STRICT=$(STRICT) \
		$(UV) run --frozen pytest tests/fuzz -p no:randomly --timeout=0

bench: install
	$(UV) run --frozen herald bench all --write docs/benchmarks.md

lint: install
	$(UV) run --frozen ruff check src tests
	$(UV) run --frozen ruff format --check src tests
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports --no-cache

fmt: install
	$(UV) run --frozen ruff check --fix src tests
	$(UV) run --frozen ruff format src tests

migrate: install
	$(UV) run --frozen herald migrate

clean:
	rm -rf .venv .tools .herald-test
