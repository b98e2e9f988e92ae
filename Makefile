# Two commands on a fresh machine:
#   make run   — set everything up, build the index if needed, serve on http://127.0.0.1:8000
#   make test  — set everything up and run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test build eval bench browser clean

setup: $(STAMP)

# torch is pinned to the CPU wheel on this machine's disk; unpinned, pip would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

build: setup
	$(BIN)/rag build

run: setup
	$(BIN)/rag serve

test: setup browser
	$(BIN)/pytest

eval: setup
	$(BIN)/rag eval

bench: setup
	$(BIN)/rag bench

clean:
	rm -rf $(VENV) index/builds index/CURRENT index/cache
