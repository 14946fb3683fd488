#!/usr/bin/env bash
# Start the embedded mode: the action server (5055) and the Rasa server with the
# REST and socket.io channels (5005), on a SQLite tracker store under var/.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/log
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}

# Migrations run before any server starts (the ticket database; SQLite by default).
.venv/bin/loginhelp db upgrade

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

.venv/bin/rasa run actions --port "$ACTION_PORT" --actions actions \
  > var/log/actions.log 2>&1 &
pids+=($!)

.venv/bin/rasa run --model models/loginhelp.tar.gz --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml --cors "*" \
  > var/log/rasa.log 2>&1 &
pids+=($!)

echo "starting... (logs in var/log/)"
for _ in $(seq 1 180); do
  if curl -fs "http://localhost:$RASA_PORT/" >/dev/null 2>&1 \
     && curl -fs "http://localhost:$ACTION_PORT/health" >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server exited; see var/log/"; tail -20 var/log/*.log; exit 1; }
  done
  sleep 1
done
cat <<MSG
The assistant is running.
  REST:      curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
               -d '{"sender": "me", "message": "I cannot log in"}'
  socket.io: http://localhost:$RASA_PORT/socket.io
  actions:   http://localhost:$ACTION_PORT/health
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "a server stopped; see var/log/"
exit 1
