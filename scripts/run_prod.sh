#!/usr/bin/env bash
# Production mode on one machine (`make run-prod`): two Rasa server replicas and two
# action server replicas behind nginx, sharing the PostgreSQL tracker store and
# ticket database and the Redis lock store. The same pieces as a container
# deployment (deploy/README.md), with this script as the orchestrator: it runs the
# migrations first, starts everything, restarts a server that dies, and stops
# everything on Ctrl-C / SIGTERM.
#
# Configuration comes from the environment (defaults below suit this machine: the
# PostgreSQL at 127.0.0.1:5432 with trust auth and the Redis at 127.0.0.1:6379) and
# from deploy/endpoints.prod.yml, which Rasa fills from the same environment.
# Secrets (database and Redis passwords, TELEGRAM_TOKEN ...) are never in the
# repository: export them, or put them in $PROD_ENV_FILE (default var/prod.env,
# ignored by git, sourced before the defaults; see deploy/prod.env.example).
#
# Run-time state under $PROD_RUN_DIR (default var/prod): log/<server>.log,
# pids/<server>.pid, the rendered nginx.conf, and the ticket spool shared by the
# action servers. Touching hold/<server> keeps a dead server down (maintenance,
# tests); removing it lets the supervisor start it again.
set -euo pipefail
cd "$(dirname "$0")/.."

PROD_ENV_FILE=${PROD_ENV_FILE:-var/prod.env}
if [ -f "$PROD_ENV_FILE" ]; then
  set -a
  # shellcheck disable=SC1090
  . "$PROD_ENV_FILE"
  set +a
fi

# --- Configuration --------------------------------------------------------------------
# Every variable, its default and meaning: loginhelp/settings.py (the README's table).
# `settings export` applies the defaults of this mode and stops, naming every bad
# value, before anything starts.
settings=$(.venv/bin/loginhelp settings export --mode prod) || exit 2
eval "$settings"

read -r -a rasa_ports <<< "$RASA_PORTS"
read -r -a action_ports <<< "$ACTION_PORTS"

ACTION_ENDPOINT_URL="http://$ACTION_LB_HOST:$ACTION_LB_PORT/webhook"
export ACTION_ENDPOINT_URL
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} PYTHONDONTWRITEBYTECODE=1
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}   # as the Makefile: fewer idle malloc arenas per process
# Several Rasa replicas share the cores: one TensorFlow thread pool thread each
# keeps them from fighting over the same CPUs (a message is one small inference).
# Given to the Rasa replicas only: with these set, `rasa run actions` would load
# TensorFlow too (+350 MB per action server).
RASA_TF_THREADS=(TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-1}"
                 TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}")
unset TF_INTRA_OP_PARALLELISM_THREADS TF_INTER_OP_PARALLELISM_THREADS

if [ ! -f "$MODEL" ]; then
  echo "$MODEL is missing: run \`make train\` first" >&2
  exit 1
fi
if ! command -v nginx >/dev/null 2>&1; then
  echo "installing nginx (Debian's nginx-light) for the load balancer"
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
  else
    sudo apt-get install -y nginx-light
  fi
fi

mkdir -p "$PROD_RUN_DIR"/{log,pids,hold,nginx} "$LOGINHELP_SPOOL_DIR"
RUN=$(cd "$PROD_RUN_DIR" && pwd)
rm -f "$RUN/stopping" "$RUN/ready" "$RUN"/pids/*.pid "$RUN"/hold/*
for log in "$RUN"/log/*.log; do  # keep the previous run's logs as *.log.1
  [ -e "$log" ] && mv -f "$log" "$log.1"
done

# --- 1. Migrations, before any server starts ---------------------------------------------
scripts/prod_migrate.sh

# --- 2. The load balancer's configuration ----------------------------------------------------
servers() {  # servers PORT... -> nginx upstream lines
  for port in "$@"; do echo "        server 127.0.0.1:$port max_fails=1 fail_timeout=$PROD_FAIL_TIMEOUT;"; done
}
RASA_UPSTREAM_SERVERS=$(servers "${rasa_ports[@]}") \
ACTION_UPSTREAM_SERVERS=$(servers "${action_ports[@]}") \
RASA_REPLICAS=${#rasa_ports[@]} ACTION_REPLICAS=${#action_ports[@]} \
PROD_RUN_DIR="$RUN" PROD_HOST="$PROD_HOST" PROD_PORT="$PROD_PORT" ACTION_LB_HOST="$ACTION_LB_HOST" \
ACTION_LB_PORT="$ACTION_LB_PORT" NGINX_WORKERS="$NGINX_WORKERS" NGINX_ACCESS_LOG="$NGINX_ACCESS_LOG" \
PROD_MAX_BODY="$PROD_MAX_BODY" ACTION_TIMEOUT="$ACTION_TIMEOUT" ACTION_APOLOGY="$ACTION_APOLOGY" \
.venv/bin/python - deploy/nginx.conf.template "$RUN/nginx/nginx.conf" <<'PY'
import os, re, sys
source, target = sys.argv[1], sys.argv[2]
text = open(source, encoding="utf-8").read()
missing = set()
def value(match):
    name = match.group(1)
    if name not in os.environ:
        missing.add(name)
        return match.group(0)
    return os.environ[name]
text = re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", value, text)
if missing:
    sys.exit(f"nginx template: no value for {', '.join(sorted(missing))}")
open(target, "w", encoding="utf-8").write(text)
PY
NGINX=(nginx -e "$RUN/log/nginx-error.log" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -g 'daemon off;')
if ! check=$("${NGINX[@]}" -t -q 2>&1); then
  echo "nginx rejected $RUN/nginx/nginx.conf:" >&2
  echo "$check" >&2
  exit 1
fi

# --- 3. The servers, each under a small supervisor ----------------------------------------------
supervisors=()

supervise() {  # supervise NAME COMMAND... : run it, start it again when it dies
  local name=$1
  shift
  (
    child=
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT
    while [ ! -e "$RUN/stopping" ]; do
      if [ -e "$RUN/hold/$name" ]; then sleep 0.5; continue; fi
      echo "=== $(date -u +%FT%TZ) starting $name: $*" >> "$RUN/log/$name.log"
      "$@" >> "$RUN/log/$name.log" 2>&1 &
      child=$!
      echo "$child" > "$RUN/pids/$name.pid"
      status=0
      wait "$child" || status=$?
      child=
      [ -e "$RUN/stopping" ] && break
      echo "=== $(date -u +%FT%TZ) $name exited with status $status; restarting in ${PROD_RESTART_DELAY}s" \
        | tee -a "$RUN/log/$name.log" >&2
      sleep "$PROD_RESTART_DELAY"
    done
  ) &
  supervisors+=($!)
}

stop_all() {
  trap - INT TERM EXIT
  touch "$RUN/stopping"
  rm -f "$RUN/ready"
  for pid in "${supervisors[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pidfile in "$RUN"/pids/*.pid; do
    [ -e "$pidfile" ] || continue
    kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -f "$RUN"/pids/*.pid
  echo "production mode stopped"
}
trap 'stop_all; exit 0' INT TERM   # Ctrl-C / SIGTERM: a normal stop
trap stop_all EXIT                  # any other exit (a failure) keeps its status

supervise nginx "${NGINX[@]}"

i=0
for port in "${action_ports[@]}"; do
  i=$((i + 1))
  supervise "action-$i" env DATABASE_URL="$ACTION_DATABASE_URL" \
    .venv/bin/rasa run actions --port "$port" --actions actions
done

i=0
for port in "${rasa_ports[@]}"; do
  i=$((i + 1))
  # loginhelp.rasa_launch is `rasa` with three run-time changes that save CPU per turn (see that file).
  supervise "rasa-$i" env "${RASA_TF_THREADS[@]}" \
    .venv/bin/python -m loginhelp.rasa_launch run --model "$MODEL" --interface "$RASA_BIND" \
    --port "$port" --credentials credentials.yml --endpoints deploy/endpoints.prod.yml --cors "$PROD_CORS"
done

# Tickets spooled while the database was down are stored by the next ticket call
# of any action server; this loop stores them even when no ticket call comes.
spool_flusher() {
  while [ ! -e "$RUN/stopping" ]; do
    sleep "$PROD_SPOOL_FLUSH_SECONDS"
    if compgen -G "$LOGINHELP_SPOOL_DIR/*.json" >/dev/null; then
      DATABASE_URL="$ACTION_DATABASE_URL" .venv/bin/loginhelp tickets flush-spool \
        --spool-dir "$LOGINHELP_SPOOL_DIR" >> "$RUN/log/spool-flusher.log" 2>&1 || true
    fi
  done
}
spool_flusher &
supervisors+=($!)

# --- 4. Ready when every replica answers ------------------------------------------------------
up() { curl -fs -o /dev/null --max-time 2 "$1"; }
echo "starting ${#rasa_ports[@]} Rasa and ${#action_ports[@]} action server replicas (logs in $RUN/log/)"
deadline=$(( $(date +%s) + PROD_READY_TIMEOUT ))
while :; do
  pending=()
  for port in "${action_ports[@]}"; do up "http://127.0.0.1:$port/health" || pending+=("action:$port"); done
  for port in "${rasa_ports[@]}"; do up "http://$RASA_BIND:$port/" || pending+=("rasa:$port"); done
  up "http://$PROD_HOST:$PROD_PORT/lb-health" || pending+=("nginx:$PROD_PORT")
  [ "${#pending[@]}" -eq 0 ] && break
  if crashed=$(grep -l "restarting in" "$RUN"/log/*.log 2>/dev/null | head -1) && [ -n "$crashed" ]; then
    echo "a server exited while starting; the end of $crashed:" >&2
    tail -20 "$crashed" >&2
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "not up after ${PROD_READY_TIMEOUT}s: ${pending[*]}; see $RUN/log/" >&2
    exit 1
  fi
  sleep 1
done
touch "$RUN/ready"
lb_host=$PROD_HOST
[ "$lb_host" = "0.0.0.0" ] && lb_host=localhost
cat <<MSG
Production mode is running.
  load balancer: http://$lb_host:$PROD_PORT  (REST /webhooks/rest/webhook, socket.io /socket.io,
                 Telegram /webhooks/telegram/webhook)
  Rasa replicas: ${rasa_ports[*]}    action replicas: ${action_ports[*]} (behind :$ACTION_LB_PORT)
  tracker store: postgresql $TRACKER_DB_HOST:$TRACKER_DB_PORT/$TRACKER_DB_NAME   lock store: redis $REDIS_HOST:$REDIS_PORT/$REDIS_DB
  try: curl -s $lb_host:$PROD_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
         -d '{"sender": "me", "message": "I cannot log in"}'
Press Ctrl-C to stop.
MSG
wait
