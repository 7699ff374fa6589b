# The README's commands. Each keeps ./venv (the virtualenv Pulumi.yaml names) in step: built by
# `$(PYTHON) -m venv` (so it has pip, which Pulumi's toolchain runs), built again when another
# interpreter built it or its creation broke off, installed again when a requirements file is newer
# than its last finished install. uv installs (UV); pip does when uv cannot be had.
## Needs make and Python 3.11 or newer: python3 unless PYTHON names another, e.g.
##     make preview PYTHON=python3.12 (a ./venv another Python built is built again).
## uv installs the requirements in seconds: the uv on PATH, else the one requirements-tools.txt
##     pins, installed into .tools/; pip installs them when uv cannot be installed, or with UV=.
##
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
TOOLS := .tools
STACK ?= dev
UV ?= $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)
EXAMPLE_STACKS := dev govcloud china

.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory
.DELETE_ON_ERROR:
.PHONY: help preview preview-json install review review-plans test lint lint-workflows typecheck unit bench docs \
	snapshots clean FORCE

# Every goal but help and clean needs ./venv: the interpreter is asked first, before anything is
# installed. It answers "<version> <its own path>" (the interpreter itself, not a shim or a venv),
# or "<version> too-old"; the line runs on Python 2 too, so an old one is named, not a traceback.
# The answer starts with the argument it was given, so a wrapper that ignores `-c` is told apart.
IDENTIFY := import os, sys; v = sys.version_info; print(sys.argv[1] + (" %d.%d.%d " % tuple(v[:3])) + (os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable) if v >= (3, 11) else "too-old"))
# $(call ANSWER_OF,<interpreter>): its answer, checked before anything relies on it. One line,
# "asked <major>.<minor>.<patch> <absolute path of an executable>" from a 3.11 or newer, or
# "asked <major>.<minor>.<patch> too-old" from an older one, is "<version> <path or too-old>";
# anything else (a wrapper that ignores -c, a second line, a path from a 3.10) is "invalid"; no
# answer, or a failed run, is "".
ANSWER_OF = $(shell answer=$$($(call QUOTE,$(1)) -c '$(IDENTIFY)' asked 2>/dev/null) && [ -n "$$answer" ] \
  || exit 0; printf '%s\n' "$$answer" | awk ' \
    NR == 1 && NF == 3 && $$1 == "asked" && $$2 ~ /^[0-9]+\.[0-9]+\.[0-9]+$$/ { \
      split($$2, v, "."); new = v[1] + 0 > 3 || (v[1] + 0 == 3 && v[2] + 0 >= 11); \
      ok = new ? $$3 ~ /^\/[-A-Za-z0-9._+@~,:=\/]+$$/ : $$3 == "too-old"; line = $$2 " " $$3 } \
    END { print (NR == 1 && ok ? line : "invalid") }' \
  | { read -r version where && { [ "$$where" = too-old ] || { [ -f "$$where" ] && [ -x "$$where" ]; }; } \
      && echo "$$version $$where" || echo invalid; })
# PYTHON is a command name or a path: letters, digits and ._+-/@,:= alone (no space, quote or
# anything else the shell reads), checked by make before any shell sees it; every command that runs
# it single-quotes it too: $(call QUOTE,<text>) is <text> as one shell word.
QUOTE = '$(subst ','\'',$(1))'
SAFE_CHARS := a b c d e f g h i j k l m n o p q r s t u v w x y z A B C D E F G H I J K L M N O P \
  Q R S T U V W X Y Z 0 1 2 3 4 5 6 7 8 9 . _ + - / @ , : =
# $(call UNSAFE_IN,<text>,$(SAFE_CHARS)): what is left of <text> once the safe characters are gone.
UNSAFE_IN = $(if $(2),$(call UNSAFE_IN,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,$(words $(2)),$(2))),$(1))
# Whether $(PYTHON) can build ./venv (the venv module, and ensurepip with its pip: Debian and Ubuntu
# ship both in python3.X-venv), asked before an old venv is removed to build it again.
VENV_PROBE := import venv, ensurepip; ensurepip.version()
ifneq ($(filter-out help clean,$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
AGAIN := make $(or $(firstword $(MAKECMDGOALS)),preview) PYTHON=python3.12
ifneq ($(words $(PYTHON))|$(call UNSAFE_IN,$(PYTHON),$(SAFE_CHARS)),1|)
$(error PYTHON=$(PYTHON) is not a command name or path (letters, digits and ._+-/@,:= only); name one with $(AGAIN))
endif
PYTHON_ID := $(call ANSWER_OF,$(PYTHON))
ifeq ($(PYTHON_ID),)
$(error PYTHON=$(PYTHON) is no Python interpreter here; Python 3.11 or newer is needed: name one with $(AGAIN))
else ifeq ($(PYTHON_ID),invalid)
$(error PYTHON=$(PYTHON) did not answer as Python 3.11 or newer does (one line: its version and path); name one with $(AGAIN))
else ifeq ($(lastword $(PYTHON_ID)),too-old)
$(error PYTHON=$(PYTHON) is Python $(firstword $(PYTHON_ID)); Python 3.11 or newer is needed: name another with $(AGAIN))
endif
# Which interpreter built ./venv: $(VENV)/.python, written once its creation finished. A venv of
# the Makefile before that record is kept when its install finished and $(PYTHON) built it.
VENV_BUILT_BY := $(shell cat $(VENV)/.python 2>/dev/null)
ifeq ($(VENV_BUILT_BY),)
ifneq ($(wildcard $(VENV)/.runtime-installed),)
VENV_UNRECORDED := $(call ANSWER_OF,$(BIN)/python)
endif
endif
# record: $(PYTHON) built the venv, only the record is missing; build: it is built (again), once
# $(PYTHON) has shown it can build one, so a venv is never removed for one that cannot be built.
ifeq ($(VENV_BUILT_BY)|$(VENV_UNRECORDED),|$(PYTHON_ID))
VENV_ACTION := record
else ifneq ($(VENV_BUILT_BY),$(PYTHON_ID))
VENV_ACTION := build
ifneq ($(shell $(call QUOTE,$(PYTHON)) -c '$(VENV_PROBE)' >/dev/null 2>&1 && echo yes),yes)
$(error PYTHON=$(PYTHON) (Python $(firstword $(PYTHON_ID))) cannot create a virtual environment: install python$(basename $(firstword $(PYTHON_ID)))-venv (Debian, Ubuntu) or name another with $(AGAIN)$(if $(wildcard $(VENV)),; ./$(VENV)/ is left as it is))
endif
endif
endif

# Runs uv when there is one (the one of .tools/ is installed first), else pip; `set -x` shows which.
ENSURE_UV = $(if $(filter $(TOOLS)/bin/uv,$(UV)),+@$(MAKE) -q $(TOOLS)/bin/uv || $(MAKE) $(TOOLS)/bin/uv)
HAS_UV = command -v "$(UV)" >/dev/null 2>&1
INSTALL = if $(HAS_UV); then set -x; $(UV) pip install --quiet --python $(BIN)/python -r $(1); \
  else set -x; $(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(1); fi

ifneq ($(VENV_BUILT_BY),$(PYTHON_ID))
$(VENV)/.python: FORCE
endif
$(VENV)/.python:
ifeq ($(VENV_ACTION),record)
	echo '$(PYTHON_ID)' > $@ && touch -r $(VENV)/pyvenv.cfg $@
else
	@$(if $(VENV_BUILT_BY),echo $(call QUOTE,$(VENV)/ was built by $(VENV_BUILT_BY); PYTHON=$(PYTHON) is $(PYTHON_ID): building it again))
	rm -rf $(VENV)
	$(call QUOTE,$(PYTHON)) -m venv $(VENV)
	echo '$(PYTHON_ID)' > $@
endif

$(VENV)/.runtime-installed: requirements.txt $(VENV)/.python
	$(ENSURE_UV)
	@$(call INSTALL,requirements.txt)
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.runtime-installed
	$(ENSURE_UV)
	@$(call INSTALL,requirements-dev.txt)
	touch $@

# uv as requirements-tools.txt pins it (one binary), installed into .tools/ by ./venv's pip; when
# that fails, pip installs the requirements instead.
$(TOOLS)/bin/uv: requirements-tools.txt | $(VENV)/.python
	rm -rf $(TOOLS)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --target $(TOOLS) \
	  -r requirements-tools.txt && touch $@ \
	  || { rm -rf $(TOOLS); echo "uv could not be installed into $(TOOLS)/: pip installs instead" >&2; }

## make help (or make): this list
help:
	@sed -n 's/^## \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

## make preview [STACK=dev]: the offline plan of Pulumi.<STACK>.yaml
preview: $(VENV)/.runtime-installed
	$(BIN)/python -m offline_preview --stack $(STACK)

## make preview-json [STACK=dev]: the same plan as JSON
preview-json: $(VENV)/.runtime-installed
	$(BIN)/python -m offline_preview --stack $(STACK) --format json

## make install: the program's venv and the policy pack's (policy/venv, which
##     `pulumi preview --policy-pack policy` runs in); the workflows' pulumi steps use both
install: $(VENV)/.runtime-installed policy/venv/.installed

policy/venv/.installed: policy/requirements.txt $(VENV)/.python
	rm -rf policy/venv
	$(call QUOTE,$(PYTHON)) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	touch $@

## make review BASE_DIR=DIR [REVIEW_DIR=build/iam-review]: every stack's plan, security review
##     document and IAM diff against a checkout of the base branch in DIR, all by this checkout's
##     code (CI judges with the base branch's code: docs/workflows.md)
## make review-plans [REVIEW_DIR=build/iam-review]: every stack's plans and review document
##     alone (ci.yml's `IAM plans`; the base branch's `ci_review verdict` judges them)
REVIEW_DIR ?= build/iam-review
review: $(VENV)/.runtime-installed
	@test -n "$(BASE_DIR)" || { echo "make review needs BASE_DIR=<a checkout of the base branch>" >&2; exit 2; }
	$(BIN)/python -m ci_review build --base-dir "$(BASE_DIR)" --out "$(REVIEW_DIR)"

review-plans: $(VENV)/.runtime-installed
	$(BIN)/python -m ci_review plans --out "$(REVIEW_DIR)"

## make test: lint (code and workflows), format check, type check, then the test suite (CI runs it)
test: lint typecheck unit

## make lint | typecheck | unit: one part of make test (ruff and the workflows; mypy; pytest)
lint: $(VENV)/.dev-installed lint-workflows
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make lint-workflows: zizmor's audit of .github/workflows (offline: no audit that asks GitHub)
##     and GitHub's workflow schema, vendored in check-jsonschema; tests/workflows/ asserts the rules
lint-workflows: $(VENV)/.dev-installed
	$(BIN)/zizmor --offline --no-progress --min-severity low .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

## make bench [BENCH_ARGS=...]: the suite's and the offline preview's time against a bare Pulumi
##     SDK process under mocks (tests/tools/bench.py); BENCH_ARGS e.g. --runs 5 --suite-args '-n 2';
##     BENCH_ARGS=--setup: a fresh clone's make preview against pip installing requirements.txt
bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.tools.bench --python $(call QUOTE,$(PYTHON)) $(BENCH_ARGS)

## make docs: regenerate the config reference (docs/configuration.md) from stack_config/, and the
##     IAM review document of each example stack (docs/iam/<stack>.md) from its offline plan
docs: $(VENV)/.runtime-installed
	$(BIN)/python -m stack_config --write docs/configuration.md
	mkdir -p docs/iam
	for stack in $(EXAMPLE_STACKS); do \
	  $(BIN)/python -m offline_preview --stack $$stack --format markdown > docs/iam/$$stack.md.tmp \
	    && mv docs/iam/$$stack.md.tmp docs/iam/$$stack.md || { rm -f docs/iam/$$stack.md.tmp; exit 1; }; \
	done

## make snapshots: rewrite the example stacks' URN snapshots (tests/snapshots/); only for an
##     intended rename, which also needs an alias on the renamed resource
snapshots: $(VENV)/.runtime-installed
	for stack in $(EXAMPLE_STACKS); do \
	  $(BIN)/python -m offline_preview --stack $$stack --format urns > tests/snapshots/$$stack.urns || exit 1; \
	done

## make clean: remove ./venv, policy/venv, .tools/ (uv) and the tools' caches
clean:
	rm -rf $(VENV) policy/venv $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
