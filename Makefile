# probgen's commands. `make demo` and `make test` create/refresh .venv first; the install is skipped when
# pyproject.toml has not changed since the last one (a stamp file inside .venv records it).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.probgen-installed
# Two cores: two pytest workers. Override with `make test JOBS=1`.
JOBS   ?= 2

.PHONY: demo test test-slow bench docs lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,docs]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/probgen demo

test: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow -o addopts="-ra --strict-markers"

bench: $(STAMP)
	$(PY) bench/run_all.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site
	$(PY) docs/check_site.py site

lint: $(STAMP)
	$(VENV)/bin/ruff check probgen tests bench examples

clean:
	rm -rf $(VENV) site .pytest_cache
