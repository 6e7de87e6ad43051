# Two commands for a new user (see README):  make app   |   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: app test setup lint browser-deps clean visual-baselines

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Start the app on the default city at http://127.0.0.1:8501
app: $(STAMP)
	$(BIN)/explorer app --address 127.0.0.1 --port 8501

## Headless Chromium for the browser tests (Debian package; needs root or sudo).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## Set everything up and run the whole test suite (library, AppTest pages, headless-browser tests).
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Regenerate the visual-regression baselines (tests/visual/baselines/) after a meant change of how a page looks;
## commit them with the change (git shows which screens changed).
visual-baselines: $(STAMP) browser-deps
	UPDATE_VISUAL_BASELINES=1 $(BIN)/python -m pytest tests/visual -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) artifacts .pytest_cache
