# iadsim: the two commands a new user runs (Python 3.11+ and the package registries needed).
#   make demo   set up, then run `iadsim demo` on the bundled real-terrain scenario
#   make test   set up, then run the test suite on every core (pytest-xdist)
PYTHON ?= python3
VENV   := .venv
UV     := .uv/bin/uv
BIN    := $(VENV)/bin

.PHONY: demo test bench setup clean

setup: $(VENV)/.installed

# what `iadsim demo` needs (no test or benchmark extras); --inexact keeps extras a test run installed
$(VENV)/.installed-demo: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --python $(PYTHON)
	touch $@

# uv (pinned) in its own small venv, then the project's locked environment in .venv
$(UV):
	$(PYTHON) -c 'import sys; sys.exit("iadsim needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --extra test --extra bench --python $(PYTHON)
	touch $@

# compile the simulation kernels once after each install (numba's on-disk cache), so that the first
# run starts at once; made again when the install stamp or a source file changes (numba compiles
# anew a kernel whose file changed; done here once, not by each test worker at the same time)
SOURCES := $(wildcard src/iadsim/*.py src/iadsim/*/*.py)
$(VENV)/.warmed-demo: $(VENV)/.installed-demo $(SOURCES)
	$(BIN)/iadsim warmup
	touch $@

$(VENV)/.warmed: $(VENV)/.installed $(SOURCES)
	$(BIN)/iadsim warmup
	touch $@

demo: $(VENV)/.warmed-demo
	$(BIN)/iadsim demo $(ARGS)

# the offline Cesium viewer the browser tests load exported CZML/KML into (skipped without npm)
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix web --no-audit --no-fund --loglevel=error \
	  || echo "npm ci failed: the Cesium viewer test will be skipped"; \
	else echo "npm not found: the Cesium viewer test will be skipped"; fi

# the suite on every core (pytest-xdist; each test file stays in one worker: tests/conftest.py),
# with the slowest tests listed at the end
test: setup $(VENV)/.warmed web/node_modules/.package-lock.json
	@bash scripts/system-deps.sh
	$(BIN)/python -m pytest -n auto --dist loadgroup --durations=15 $(ARGS)

bench: setup
	$(BIN)/python benchmarks/run.py $(ARGS)

clean:
	rm -rf $(VENV) .uv iadsim-out
