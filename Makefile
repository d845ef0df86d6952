# The two commands of this repository are `make demo` and `make test`; the rest are their steps.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# a new requirements.txt means a fresh install, an unchanged one costs nothing
DEPS_STAMP := $(VENV)/.deps-$(shell sha256sum requirements.txt | cut -c1-16)

.PHONY: demo test deps build up down status pytest sanity lint

demo: up
	@$(PY) -m testbed status
	@echo
	@$(PY) -m testbed demo
	@echo
	@echo "The testbed stays up: 'eval \"\$$($(PY) -m testbed env)\"' points clients at it, 'make down' stops it."

test: build sanity pytest lint

deps: $(DEPS_STAMP)

$(DEPS_STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.deps-*
	touch $@

build: deps
	$(PY) -m testbed build

up: build
	$(PY) -m testbed up

down: deps
	$(PY) -m testbed down

status: deps
	$(PY) -m testbed status

pytest: build
	$(PY) -m pytest

sanity: deps
	bash tests/sanity/run.sh

lint: deps
	ansible-lint
