# Two commands: `make run` (web chat on the embedded default) and `make test`. Each sets itself up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# One index per corpus configuration, shared by the evals and kept between runs (it follows the corpus).
EVAL_INDEX := data/eval-index

.PHONY: run test lint eval bench serve ingest clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,eval]'
	touch $(STAMP)

run: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python app.py

lint: $(STAMP)
	$(BIN)/ruff check assistant eval tests app.py
	$(BIN)/mypy

serve: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m assistant serve

ingest: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m assistant ingest

test: $(STAMP)
	@test -x /usr/bin/chromium || echo "note: /usr/bin/chromium missing; browser tests will be skipped (apt-get install -y chromium)"
	$(BIN)/ruff check assistant eval tests app.py
	$(BIN)/mypy
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q
	HF_HUB_OFFLINE=1 $(BIN)/python -m assistant eval --no-baseline --data-dir $(EVAL_INDEX)
	HF_HUB_OFFLINE=1 $(BIN)/python -m assistant eval-provisions --official --data-dir $(EVAL_INDEX)

eval: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m assistant eval --official --compare-official --compare-dtype --ablation --sweep

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m assistant bench

clean:
	rm -rf data .pytest_cache
