#!/usr/bin/env bash
# Train models/loginhelp.tar.gz. Rasa fingerprints data and config itself but
# treats the spaCy pipeline as unchanged while its path is, so a rebuilt
# pipeline forces a full retrain.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p models
spacy_fp=$(.venv/bin/python -c 'import json; print(json.load(open("build/spacy/loginhelp_en/meta.json"))["source_fingerprint"])')
force=()
if [ "$(cat models/.spacy_fingerprint 2>/dev/null)" != "$spacy_fp" ]; then
  force=(--force)
fi
start=$(date +%s)
.venv/bin/rasa train --fixed-model-name loginhelp --out models "${force[@]}" --quiet
echo "$spacy_fp" > models/.spacy_fingerprint
touch models/loginhelp.tar.gz
echo "trained models/loginhelp.tar.gz in $(( $(date +%s) - start )) s"
