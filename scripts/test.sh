#!/usr/bin/env bash
# The whole suite: data validation, pytest, then the conversation tests against
# the trained model with a private action server (port 5056, in-memory tracker).
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p results var/log

echo "== rasa data validate"
.venv/bin/rasa data validate --quiet

echo "== pytest"
# The widget's browser test drives Debian's Chromium (Playwright's own download is not used).
if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is missing: installing it for tests/channels/test_widget_browser.py"
  (apt-get update -qq && apt-get install -y -qq chromium) || echo "could not install chromium"
fi
.venv/bin/python -m pytest -q

echo "== conversation tests (rasa test core)"
port=${TEST_ACTION_PORT:-5056}
.venv/bin/rasa run actions --port "$port" --actions actions > var/log/test-actions.log 2>&1 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fs "http://localhost:$port/health" >/dev/null 2>&1 && break
  sleep 1
done
sed "s/5055/$port/" tests/endpoints.yml > results/endpoints.test.yml
.venv/bin/rasa test core --model models/loginhelp.tar.gz --stories tests/conversations \
  --endpoints results/endpoints.test.yml --fail-on-prediction-errors --out results/core --quiet
echo "conversation tests passed"
