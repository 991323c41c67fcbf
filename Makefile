# The two commands of the README: `make run` (the main job) and `make test` (every test).
# Both create the environments they need first (harness/envs.sh; cached under the repo, rebuilt
# when env/*-requirements.txt change).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PLANEMO := .venv-galaxy/bin/planemo
# Offline, shed_lint would fail on two checks that are not about the repository's content:
# version_bumped asks the public Tool Shed; shed_remote_repository_url compares the URL with the name
# of the folder the repository happens to be cloned into.
SHED_LINT_SKIP := version_bumped,shed_remote_repository_url

.PHONY: envs test unit-test lint galaxy-test run

envs:
	bash harness/envs.sh

test: envs
	@start=$$SECONDS; \
	$(MAKE) --no-print-directory unit-test lint galaxy-test; \
	echo "make test: all green in $$((SECONDS - start)) s (after environments)"

unit-test:
	.venv-tools/bin/python -m pytest

lint:
	timeout 300 $(PLANEMO) lint --fail_level warn tools/
	timeout 300 $(PLANEMO) shed_lint --tools --fail_level warn --skip $(SHED_LINT_SKIP) .

galaxy-test:
	bash harness/planemo.sh test-tools

# For now: a local Galaxy with the tools loaded (issue #4 turns this into the IMDB workflow run).
run: envs
	@echo "Starting Galaxy with the Keras tools; open http://127.0.0.1:$${PORT:-9090} once it says 'serving'."
	bash harness/planemo.sh serve --host 127.0.0.1
