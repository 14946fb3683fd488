#!/usr/bin/env bash
# Create .venv with Python 3.10 if it is missing and install the project into it.
# Re-run (by make) whenever pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  py=$(scripts/find_python.sh)
  echo "creating $VENV with $py"
  "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade "pip<24.1"
fi
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"
touch "$VENV/.installed"
