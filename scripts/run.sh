#!/usr/bin/env bash
# Start the embedded mode: the action server (5055) and the Rasa server with the
# REST, socket.io and Telegram channels (5005), on a SQLite tracker store under
# var/, the demo login-help page with the chat widget (8080), and the agent
# console (8000) reading that tracker store.
# Telegram is on only when TELEGRAM_TOKEN is set (see web/README.md).
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/log
# Every variable, its default and meaning: loginhelp/settings.py (the README's table).
# A bad value stops here, named, before anything starts.
settings=$(.venv/bin/loginhelp settings export --mode run) || exit 2
eval "$settings"

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

# loginhelp.rasa_launch is `rasa` with three run-time changes that save CPU per turn (see that file).
.venv/bin/python -m loginhelp.rasa_launch run --model models/loginhelp.tar.gz --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml --cors "*" \
  > var/log/rasa.log 2>&1 &
pids+=($!)

.venv/bin/python web/serve.py --port "$WEB_PORT" --rasa-port "$RASA_PORT" \
  > var/log/web.log 2>&1 &
pids+=($!)

echo "starting... (logs in var/log/)"
for _ in $(seq 1 180); do
  if curl -fs "http://localhost:$RASA_PORT/" >/dev/null 2>&1 \
     && curl -fs "http://localhost:$ACTION_PORT/health" >/dev/null 2>&1 \
     && curl -fs "http://localhost:$WEB_PORT/healthz" >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server exited; see var/log/"; tail -20 var/log/*.log; exit 1; }
  done
  sleep 1
done
if [ -n "${TELEGRAM_TOKEN:-}" ]; then
  telegram="on: updates at http://localhost:$RASA_PORT/webhooks/telegram/webhook"
  telegram+=", webhook ${TELEGRAM_WEBHOOK_URL:-not registered (TELEGRAM_WEBHOOK_URL unset)}"
else
  telegram="off (set TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_URL, TELEGRAM_SECRET_TOKEN; see web/README.md)"
fi

# The agent console, once Rasa has created the tracker store it reads.
.venv/bin/python -m loginhelp.console --port "$CONSOLE_PORT" > var/log/console.log 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  curl -fs "http://localhost:$CONSOLE_PORT/sign-in" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "the agent console exited; see var/log/console.log"; tail -20 var/log/console.log; exit 1; }
  sleep 1
done

cat <<MSG
The assistant is running.
  REST:      curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
               -d '{"sender": "me", "message": "I cannot log in"}'
  socket.io: http://localhost:$RASA_PORT/socket.io
  demo page: http://localhost:$WEB_PORT/  (login help with the chat widget)
  telegram:  $telegram
  actions:   http://localhost:$ACTION_PORT/health
  console:   http://localhost:$CONSOLE_PORT  (agent console: transcripts and tickets)
             first agent: .venv/bin/loginhelp agents add you@example.com --role admin
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "a server stopped; see var/log/"
exit 1
