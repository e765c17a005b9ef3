# Kaoping: the two commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
BENCH_ARGS ?=

.PHONY: demo test lint unit bench setup serve clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Migrate the configured database, seed the calendar and compile translations.
setup: $(STAMP)
	$(BIN)/kaoping setup

# The demo server signs sessions with a key made once per checkout and kept in var/.
var/secret_key:
	mkdir -p var
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	chmod 600 $@

demo: setup var/secret_key
	$(BIN)/kaoping demo load --days 90
	SECRET_KEY="$$(cat var/secret_key)" $(BIN)/kaoping serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	KAOPING_ALLOW_INSECURE_KEY=1 $(BIN)/mypy src tests bench

# The suite runs on every core (pytest-xdist), each module's tests on one worker so that its
# fixtures are built once; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
unit: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope

test: lint unit

# Benchmarks time the steady state: the project's bytecode compiled first, as pip compiles an
# installed package's (an editable install is not, and PYTHONDONTWRITEBYTECODE keeps it so), or
# every process of a file import would compile it again.
bench: setup
	$(BIN)/python -m compileall -q src > /dev/null
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info
