#!/usr/bin/env bash
# The whole suite: data validation, pytest, then the conversation tests against
# the trained model.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p results var/log

echo "== rasa data validate"
.venv/bin/rasa data validate --quiet

echo "== ruff (configuration in pyproject.toml)"
.venv/bin/ruff check loginhelp actions
echo "== mypy (configuration in pyproject.toml)"
.venv/bin/mypy

echo "== pytest"
# The widget's browser test drives Debian's Chromium (Playwright's own download is not used).
if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is missing: installing it for tests/channels/test_widget_browser.py"
  (apt-get update -qq && apt-get install -y -qq chromium) || echo "could not install chromium"
fi
.venv/bin/python -m pytest -q

echo "== conversation tests (rasa test core)"
# `rasa test core` replays each story's events (slots that actions set are listed
# in the stories) and checks every action the policies predict: no action server.
.venv/bin/rasa test core --model models/loginhelp.tar.gz --stories tests/conversations \
  --fail-on-prediction-errors --out results/core --quiet
echo "conversation tests passed"
