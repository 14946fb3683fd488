# The two commands of the README: `make run` and `make test`. Everything else
# (the Python 3.10 venv, the spaCy pipeline, the model) is built on demand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        ?= .venv
PY          := $(VENV)/bin/python
RASA        := $(VENV)/bin/rasa
INSTALLED   := $(VENV)/.installed
SPACY_META  := build/spacy/loginhelp_en/meta.json
SPACY_SRC   := $(wildcard spacy_pipeline/*.yml) loginhelp/nlp/spacy_pipeline.py
TRAIN_SRC   := config.yml domain.yml $(wildcard loginhelp/nlu/*.yml loginhelp/nlu/*.py) $(shell find data -name '*.yml' 2>/dev/null)
MODEL       := models/loginhelp.tar.gz
WEB_DEPS    := web/node_modules/.package-lock.json

export PYTHONDONTWRITEBYTECODE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
# glibc gives each thread its own malloc arena; TensorFlow's thread pools then
# hold hundreds of MB they never use. Two arenas keep the Rasa server's memory down.
export MALLOC_ARENA_MAX := 2

.PHONY: help venv spacy train web run test validate bench-nlu bench-latency bench-console clean run-prod bench-load bench-dialogue bench-handoff

help:
	@echo "make run            set up everything that is missing and start the assistant"
	@echo "make run-prod       production mode: 2 Rasa + 2 action replicas behind nginx, PostgreSQL, Redis"
	@echo "make test           data validation, pytest and conversation tests"
	@echo "make train          build the spaCy pipeline and train into models/"
	@echo "make web            install the chat widget's socket.io client (npm ci in web/)"
	@echo "make bench-nlu      5-fold cross-validation against a TF-IDF baseline"
	@echo "make bench-latency  REST latency and memory benchmark"
	@echo "make bench-console  agent console on 10,000 conversations (SQLite and PostgreSQL)"
	@echo "make bench-load     load: embedded, production and stock rasa init at 1/10/50 users"
	@echo "make bench-dialogue simulated customers: task success, noise and repeated steps"
	@echo "make bench-handoff  live handoff: 50 chats at once, agent's send to the customer's screen (Redis)"

venv: $(INSTALLED)
$(INSTALLED): pyproject.toml scripts/bootstrap_venv.sh scripts/find_python.sh
	@scripts/bootstrap_venv.sh

spacy: $(SPACY_META)
$(SPACY_META): $(INSTALLED) $(SPACY_SRC)
	@$(PY) -m loginhelp.nlp.spacy_pipeline

train: $(MODEL)
# Retrain only when the data, the config or the spaCy pipeline changed.
$(MODEL): $(SPACY_META) $(TRAIN_SRC)
	@scripts/train.sh

# The chat widget's socket.io client, installed from web/package-lock.json
# (served by web/serve.py: no CDN at run time).
web: $(WEB_DEPS)
$(WEB_DEPS): web/package.json web/package-lock.json
	@cd web && npm ci --no-audit --no-fund
	@touch $@

run: $(MODEL) $(WEB_DEPS)
	@scripts/run.sh

# Production mode on this machine (deploy/README.md); configured from the environment.
run-prod: $(MODEL)
	@scripts/run_prod.sh

validate: $(SPACY_META)
	@$(RASA) data validate

test: $(MODEL) $(WEB_DEPS)
	@scripts/test.sh

bench-nlu: $(SPACY_META)
	@$(PY) bench/nlu_crossval.py

bench-latency: $(MODEL)
	@$(PY) bench/latency.py

bench-console: $(INSTALLED)
	@$(PY) bench/console_bench.py

bench-load: $(MODEL)
	@$(PY) bench/load.py

bench-dialogue: $(MODEL)
	@$(PY) bench/dialogue.py

bench-handoff: $(MODEL)
	@$(PY) bench/handoff.py

clean:
	rm -rf build models results var/tracker.db
