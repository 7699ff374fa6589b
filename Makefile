# The two commands of the README. Each creates ./venv (the virtualenv Pulumi.yaml names) when it is
# missing or older than the requirements, using only python3.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev
EXAMPLE_STACKS := dev govcloud china

.PHONY: preview preview-json install review test lint lint-workflows typecheck unit bench docs \
	snapshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## make preview [STACK=dev]: the offline plan of Pulumi.$(STACK).yaml
preview: $(VENV)/.runtime-installed
	$(BIN)/python -m offline_preview --stack $(STACK)

preview-json: $(VENV)/.runtime-installed
	$(BIN)/python -m offline_preview --stack $(STACK) --format json

## make install: only the program's venv (the workflows' pulumi preview and up run in it)
install: $(VENV)/.runtime-installed

## make review BASE_DIR=DIR [REVIEW_DIR=build/iam-review]: every stack's plan, security review
## document and IAM diff against a checkout of the base branch in DIR (ci.yml; docs/workflows.md)
REVIEW_DIR ?= build/iam-review
review: $(VENV)/.runtime-installed
	@test -n "$(BASE_DIR)" || { echo "make review needs BASE_DIR=<a checkout of the base branch>" >&2; exit 2; }
	$(BIN)/python -m ci_review build --base-dir "$(BASE_DIR)" --out "$(REVIEW_DIR)"

## make test: lint (code and workflows), format check, type check, then the test suite
test: lint typecheck unit

lint: $(VENV)/.dev-installed lint-workflows
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make lint-workflows: zizmor's audit of .github/workflows (offline: no audit that asks GitHub)
## and GitHub's workflow schema, vendored in check-jsonschema; tests/workflows/ asserts the rules
lint-workflows: $(VENV)/.dev-installed
	$(BIN)/zizmor --offline --no-progress --min-severity low .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

## make bench [BENCH_ARGS=...]: the suite's and the offline preview's time against a bare Pulumi
## SDK process under mocks (tests/tools/bench.py); BENCH_ARGS e.g. --runs 5 --suite-args '-n 2'
bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.tools.bench $(BENCH_ARGS)

## make docs: regenerate the config reference (docs/configuration.md) from stack_config/, and the
## IAM review document of each example stack (docs/iam/<stack>.md) from its offline plan
docs: $(VENV)/.runtime-installed
	$(BIN)/python -m stack_config --write docs/configuration.md
	mkdir -p docs/iam
	for stack in $(EXAMPLE_STACKS); do \
	  $(BIN)/python -m offline_preview --stack $$stack --format markdown > docs/iam/$$stack.md.tmp \
	    && mv docs/iam/$$stack.md.tmp docs/iam/$$stack.md || { rm -f docs/iam/$$stack.md.tmp; exit 1; }; \
	done

## make snapshots: rewrite the example stacks' URN snapshots (tests/snapshots/); only for an
## intended rename, which also needs an alias on the renamed resource
snapshots: $(VENV)/.runtime-installed
	for stack in $(EXAMPLE_STACKS); do \
	  $(BIN)/python -m offline_preview --stack $$stack --format urns > tests/snapshots/$$stack.urns || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
