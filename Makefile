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
	@echo "== the same through the collection: playbooks/site.yml, then the inventory graph"
	@eval "$$($(PY) -m testbed env)" && \
	  export ANSIBLE_COLLECTIONS_PATH="$$($(PY) -c 'from tests.collection_path import collection_tree; print(collection_tree())')" \
	         ANSIBLE_PYTHON_INTERPRETER="$(CURDIR)/$(PY)" ANSIBLE_LOCALHOST_WARNING=0 && \
	  ansible-playbook -i localhost, playbooks/site.yml && \
	  PACIFIC_SUPERVISOR_TOKEN="$$($(PY) -c 'from testbed.cli import developer_token_now; print(developer_token_now())')" \
	    ansible-inventory -i playbooks/demo.workloads.yml --graph && \
	  echo && echo "== a rulebook remediates an injected fault (ansible-rulebook, Java 17)" && \
	  $(PY) -m testbed remediate-demo && \
	  echo && echo "== a function at zero answers its first request, then goes back to zero (ansible-rulebook)" && \
	  $(PY) -m testbed functions-demo
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
