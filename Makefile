# Two commands on a fresh machine (Python 3.11+ and make):
#   make sample   build the sample project into samples/starfall/dist
#   make test     run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: sample test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

sample: $(STAMP)
	$(BIN)/asset-pipeline build samples/starfall -o samples/starfall/dist

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) samples/starfall/dist
