# The two commands of the README: `make reproduce` (the whole suite) and `make test` (the tests).
# Each creates .venv on first use and installs what is missing, Fashion-MNIST's Debian package
# included where apt is available.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_WORKERS ?= auto
FASHION_DIR ?= /usr/share/datasets/fashion-mnist

.PHONY: reproduce test data report regression bench lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

data:
	@if [ -n "$$FASHION_MNIST_DIR" ] || [ -d "$(FASHION_DIR)" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	else \
		echo "warning: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR)"; \
	fi

reproduce: $(STAMP) data
	$(PY) scripts/reproduce

test: $(STAMP) data
	$(PY) -m pytest -q -n $(TEST_WORKERS)

report: $(STAMP)
	$(PY) scripts/report

regression: $(STAMP)
	$(PY) scripts/regression

bench: $(STAMP) data
	$(PY) scripts/bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
