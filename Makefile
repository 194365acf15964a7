# Set-up and entry points.  Needs only Python >= 3.11 with venv on the PATH.
#   make demo   set up .venv, then run the bundled demo study
#   make test   set up .venv, then run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test benchmarks clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dist]"
	$(BIN)/python -m ipykernel install --sys-prefix --name csm --display-name "Python (csm)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/csm run data/demo/study.yml

test: $(STAMP)
	$(BIN)/python -m pytest -q

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache
