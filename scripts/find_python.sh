#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 refuses anything else).
# Order: $PYTHON if set, then `python3.10` if it really runs (a pyenv shim may exist
# but fail), then the newest 3.10.* installed under `pyenv root`.
# Exits 1 with a message that says what to install when none is found.
set -u

is_py310() {
  # A candidate counts only if it runs and reports 3.10.
  "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1
}

if [ -n "${PYTHON:-}" ]; then
  if is_py310 "$PYTHON"; then
    command -v "$PYTHON" 2>/dev/null || echo "$PYTHON"
    exit 0
  fi
  echo "error: PYTHON=$PYTHON is not a working Python 3.10 interpreter." >&2
  echo "Rasa Open Source 3.6 needs Python 3.10; point PYTHON at one, e.g. PYTHON=/usr/bin/python3.10." >&2
  exit 1
fi

if command -v python3.10 >/dev/null 2>&1 && is_py310 python3.10; then
  command -v python3.10
  exit 0
fi

root="${PYENV_ROOT:-}"
if [ -z "$root" ] && command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
fi
[ -z "$root" ] && root="$HOME/.pyenv"
if [ -d "$root/versions" ]; then
  for candidate in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -V -r); do
    if is_py310 "$candidate/bin/python"; then
      echo "$candidate/bin/python"
      exit 0
    fi
  done
fi

cat >&2 <<'MSG'
error: no Python 3.10 found.
Rasa Open Source 3.6 runs only on Python 3.10. Install it, then run make again:
  - with pyenv:   pyenv install 3.10.13
  - on Debian/Ubuntu: apt-get install python3.10 python3.10-venv
  - or set PYTHON=/path/to/python3.10
MSG
exit 1
