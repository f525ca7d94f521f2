# gaptools: the project's verbs. `make report` and `make test` do all the set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= data/sample
OUT    ?= reports
# e.g. make bench BENCH_ARGS="--repeat 3 --data path/to/trust"
BENCH_ARGS ?=
# trust sizes of the scale benchmark, e.g. make bench-scale SCALE=12 (a minute or two) or SCALE="12 160"
SCALE ?= 12 160 500

.PHONY: install report test test-quick bench bench-scale lab sample clean

# Idempotent set-up: a virtual environment with gaptools and its test tools,
# plus the git filter that strips notebook outputs (they can hold pupil data). gaptools is compiled to
# bytecode once here: an editable install is not (pip compiles only what it copies), and where Python
# writes no bytecode itself (PYTHONDONTWRITEBYTECODE) every new process (a run, its warm kernel parent,
# a Dask worker) would compile it again, about 0.2 s each.
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q gaptools
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	if [ -d .git ]; then $(BIN)/nbstripout --install --attributes .gitattributes; fi
	touch $@

report: install
	$(BIN)/gaptools run $(DATA) --out $(OUT)
	@echo "Open $(OUT)/index.html"

# Debian's Chromium for the browser test (Playwright drives it and downloads no browser of its own).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "The browser test needs Debian's chromium: sudo apt-get install chromium"; exit 1; fi

# On every core (pytest-xdist); tests that share a batch run or a Dask cluster go to one worker
# (tests/conftest.py). `$(BIN)/python -m pytest` alone runs the same suite in one process.
PYTEST_WORKERS ?= auto
test: install $(CHROMIUM)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# The suite without the tests that start a run, kernels, Chromium or a Dask cluster (marked e2e): under a minute.
test-quick: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder -m "not e2e"

bench: install
	$(BIN)/python benchmarks/bench_gaps.py
	$(BIN)/python benchmarks/bench_in_year.py
	$(BIN)/python benchmarks/bench_activities.py
	$(BIN)/python benchmarks/bench_batch.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_scale.py --schools $(SCALE)

# The scale benchmark alone: CPU a school, largest process and each phase's time as a trust grows.
bench-scale: install
	$(BIN)/python benchmarks/bench_scale.py --schools $(SCALE)

# JupyterLab refuses to start as root without --allow-root (a container or CI machine is often root).
lab: install
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

# Regenerate the synthetic sample trust (committed; tests check it is reproducible).
sample: install
	$(BIN)/gaptools sample --out $(DATA)

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache
