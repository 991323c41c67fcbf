# The two commands of the README: `make run` (the main job) and `make test` (every test).
# Both create the environments they need first (harness/envs.sh; cached under the repo, rebuilt
# when env/*-requirements.txt change).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PLANEMO := .venv-galaxy/bin/planemo
RUFF := .venv-lint/bin/ruff
MYPY := .venv-lint/bin/mypy
# The tools are linted by `planemo lint` above. Offline, shed_lint would fail on two checks that are not about the repository's content:
# version_bumped asks the public Tool Shed; shed_remote_repository_url compares the URL with the name
# of the folder the repository happens to be cloned into.
SHED_LINT_SKIP := version_bumped,shed_remote_repository_url

# The stages of `make test` that need a Galaxy. They share ONE Galaxy, started once by
# `harness/planemo.sh with-galaxy` (GALAXY_URL); run alone, each starts its own. A new stage that talks
# to Galaxy goes here and reads GALAXY_URL (see harness/planemo.sh).
GALAXY_STAGES := galaxy-test workflow-test test-ui

.PHONY: envs test unit-test lint ruff typecheck workflow-source workflows galaxy-stages galaxy-test workflow-test test-ui run serve bench

envs:
	bash harness/envs.sh

# Galaxy boots in the background while the unit tests and lint run; all stages run at once (make -j),
# the Galaxy stages waiting for Galaxy, then sharing it: the tool tests several at a time
# (TOOL_TEST_PARALLEL, harness/test_tools.py), the workflow and browser tests beside them. Their jobs
# mostly wait (start-up, uploads, metadata), so running them side by side keeps both cores busy
# (timings: docs/performance.md). --output-sync prints each stage's output in one piece when it ends.
# Galaxy is stopped at the end, also when a stage fails or on ctrl-C.
test: envs
	@start=$$SECONDS; \
	bash harness/planemo.sh with-galaxy $(MAKE) --no-print-directory -j --output-sync=target \
	  unit-test lint $(GALAXY_STAGES); \
	echo "make test: all green in $$((SECONDS - start)) s (after environments)"

unit-test:
	.venv-tools/bin/python -m pytest
	# The migration tools read tool XML with Galaxy's own parser, and the tool test runner is Galaxy's: their tests need the Galaxy environment.
	.venv-galaxy/bin/python -m pytest -q -p no:cacheprovider migrate/tests/test_migration_tools.py harness/tests/test_tool_test_runner.py \
	  harness/tests/test_check_container_jobs.py

lint: ruff typecheck workflow-source
	timeout 300 $(PLANEMO) lint --fail_level warn tools/
	timeout 300 $(PLANEMO) workflow_lint --fail_level warn workflows/*.ga
	timeout 300 $(PLANEMO) shed_lint --fail_level warn --skip $(SHED_LINT_SKIP) .

# pyflakes, bugbear and the security rules on all Python code (rules and their exceptions: ruff.toml).
ruff:
	$(RUFF) check .

# The type hints of the tools' shared package gxkeras, checked by mypy (settings: mypy.ini; about 2 s).
typecheck:
	$(MYPY)

# Each workflow has one source, workflows/NAME.gxwf.yml (Format2); the committed NAME.ga must be what
# gxformat2 generates from it. `make workflows` regenerates the .ga files after an edit.
workflow-source:
	bash harness/workflows.sh check

workflows:
	bash harness/workflows.sh generate

# The Galaxy stages alone, sharing one Galaxy, side by side as in `make test`.
galaxy-stages: envs
	bash harness/planemo.sh with-galaxy $(MAKE) --no-print-directory -j --output-sync=target $(GALAXY_STAGES)

galaxy-test:
	bash harness/planemo.sh test-tools

workflow-test:
	bash harness/planemo.sh test-workflows

# The tool forms in headless chromium (Playwright): tutorial labels, and keras_model_config run from the form.
test-ui:
	bash harness/ui_test.sh

# The main job: a GTN tutorial's workflow in a local Galaxy, its result next to the tutorial's
# (harness/run_tutorial.py). TUTORIAL=rnn (default: IMDB, on the full data bundled in data/imdb),
# fnn (car purchase, bundled in data/car_purchase) or cnn (MNIST: needs DATA). QUICK=1: a small real
# slice (data/imdb_slice; the workflow tests' slices for fnn and cnn). DATA=DIR (four TSVs, gzipped or
# not) or DATA=zenodo (the tutorial's record, cached in .cache/). SET="random_seed=7 epochs=3": workflow
# parameters for this run. RECIPE=1 (rnn): workflows/imdb_rnn_recipe.ga instead (issue 12; docs/results.md).
# PORT: Galaxy's port (default 9500). Not part of `make test` or CI: the full runs take minutes (README).
run: envs
	.venv-galaxy/bin/python harness/run_tutorial.py $(if $(TUTORIAL),--tutorial $(TUTORIAL)) $(if $(QUICK),--quick) \
	  $(if $(DATA),--data $(DATA)) $(if $(RECIPE),--recipe) $(if $(PORT),--port $(PORT)) $(foreach setting,$(SET),--set $(setting))

# A local Galaxy with the tools, to click through the forms (http://127.0.0.1:$PORT, default 9090).
serve: envs
	bash harness/planemo.sh serve --host 127.0.0.1

# Performance (issue #6): our tools vs galaxy-ml used directly, on the real IMDB data (default
# ../shared/data/imdb; DATA=DIR), 2 epochs; QUICK=1: a few hundred rows, under two minutes. Not part of
# `make test`. Table on stdout, numbers in bench-results/bench.json; see docs/performance.md.
bench: envs
	.venv-tools/bin/python research/bench.py $(if $(DATA),--data $(DATA)) $(if $(QUICK),--quick)

# Issue #14: the IMDB workflow test with every tool job on a Pulsar server (127.0.0.1, own staging
# directory, file transfer: nothing shared with Galaxy but HTTP), checked from Pulsar's staging
# directory and log; Pulsar and Galaxy are stopped at the end, also on failure. Builds .venv-pulsar
# first (only this target needs it). Not part of `make test` (it needs a Galaxy with another job configuration);
# CI runs it after `make test` (.ci/run).
.PHONY: test-pulsar
test-pulsar:
	bash harness/envs.sh --pulsar
	bash harness/test_pulsar.sh

# Issue 26: the tools' software as the container image that tools/macros.xml declares
# (<container type="docker">): container/Containerfile, built with podman from a wheelhouse made on the host,
# without network, on a local stand-in for its base python:3.12-slim-bookworm (these machines reach no
# registry); installs podman, runc and debootstrap from Debian when missing. Each step is skipped when its
# inputs are unchanged. docs/admin.md, "Running the tools in a container".
.PHONY: container test-container
container:
	bash harness/container.sh build

# The image as a job runs it (arbitrary uid, tools read-only, no network, containment complete), then a Galaxy
# that runs every tool job of the suite in it through podman (env/job_conf_container.yml): the first test of
# each tool and the IMDB workflow test, each job's record checked (harness/check_container_jobs.py).
# Not part of .ci/run (measured times: docs/performance.md).
test-container: envs container
	bash harness/test_container.sh
