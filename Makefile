# Everything runs from a project-local virtualenv that the first target creates, on Lambda's
# runtime (python3.13): from PATH, else pyenv's, else whatever python3 is (with a warning).
RUNTIME := 3.13
PYTHON  ?= $(or $(shell for p in python$(RUNTIME) $(HOME)/.pyenv/versions/$(RUNTIME)*/bin/python$(RUNTIME); do \
             "$$p" -c '' 2>/dev/null && { command -v "$$p" || echo "$$p"; } && break; done), python3)
VENV   := .venv
BIN    := $(VENV)/bin
comma  := ,
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.txt shared/requirements.txt | cksum | cut -d' ' -f1)
PORT   ?= 3000

.PHONY: install serve demo test bench lint typecheck cfn-lint check clean screenshots

$(STAMP): requirements-dev.txt shared/requirements.txt
	@$(PYTHON) -c 'import sys; sys.version_info[:2] == ($(subst .,$(comma),$(RUNTIME))) or print( \
	  f"warning: {sys.executable} is Python {sys.version.split()[0]}; Lambda runs $(RUNTIME)", file=sys.stderr)'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## The local API (fakes + moto on loopback unless upstream variables are set); Ctrl-C stops it.
## Its state is kept in .local-state/state.json between starts; FRESH=1 discards it first.
serve: $(STAMP)
	$(BIN)/python -m local.serve --port $(PORT)$(if $(filter 1 yes true,$(FRESH)), --fresh)

## The main job once, end to end, with a summary table per step (logs: .local-state/demo.log).
demo: $(STAMP)
	$(BIN)/python -m local.demo

## Every test: unit, integration (real handlers, HTTP fakes, moto server) and end to end, spread
## over the cores by pytest-xdist (a worker per core, at most four).
test: $(STAMP)
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  echo "note: /usr/bin/chromium or /usr/bin/chromedriver is missing, so the browser tests (tests/browser) are skipped; apt-get install chromium chromium-driver runs them"
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4

## Full sync against the fakes at three sizes, with latency and a Halo rate limit: prints a table.
bench: $(STAMP)
	$(BIN)/python -m local.bench

## A PNG of each console screen at 1280x800 in docs/console/ (needs chromium and chromium-driver).
screenshots: $(STAMP)
	$(BIN)/python -m local.screenshots

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy shared functions local

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

check: lint typecheck cfn-lint test

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
