# Set-up and entry points.  Needs only Python >= 3.11 with venv on the PATH.
#   make demo   set up .venv, then run the bundled demo study
#   make check  set up .venv, then run the fast tier of the tests (no notebooks,
#               no Dask, no Monte Carlo or wheel build): under 3 minutes
#   make test   set up .venv, then run the whole test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo check test benchmarks clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77"
	$(BIN)/python -m pip install --quiet -e ".[dev,dist]"
	$(BIN)/python -m ipykernel install --sys-prefix --name csm --display-name "Python (csm)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/csm run data/demo/study.yml

check: $(STAMP)
	$(BIN)/python -m pytest -q -m "not notebooks and not dask and not slow"

test: $(STAMP)
	$(BIN)/python -m pytest -q

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache build dist
