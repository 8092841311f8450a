# Task Tracker recipes. `uv run just --list` shows them; no system install needed (rust-just).

set dotenv-load := false

# Run everything on the embedded PostgreSQL and NATS (same as `uv run tracker up`)
up:
    uv run tracker up

# `up` plus the bundled demo chat sent through the real pipeline
demo:
    uv run tracker demo

# The development stack: `up` with live reload (API, worker, dashboard restart when their code changes)
services-dev:
    uv run tracker up --reload

# The whole test suite (starts its own embedded PostgreSQL and NATS; installs the e2e group)
test *args:
    uv run --group e2e pytest {{args}}

# Lint, format check, type check, import contracts, compose file check
lint:
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy
    uv run lint-imports
    uv run check-jsonschema --builtin-schema vendor.compose-spec compose.yaml

# Format the code
fmt:
    uv run ruff format .
    uv run ruff check --fix .

# Evaluate the local classifier on a JSON Lines dataset
eval dataset="evals/datasets/seed.jsonl" *args:
    uv run tracker eval --dataset {{dataset}} {{args}}

# Run the benchmarks under evals/ (each prints its figures)
bench:
    uv run python evals/bench_ingest.py
    uv run python evals/bench_e2e.py
    uv run python evals/bench_up.py

# Containers: PostgreSQL 15, NATS, Ollama and the services (needs a Docker engine)
compose-up:
    docker compose up -d --build

compose-down:
    docker compose down

# Fetch the default LLM into the Ollama container
pull-model model="qwen2.5:3b":
    docker compose exec ollama ollama pull {{model}}
