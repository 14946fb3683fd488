"""Build the project's spaCy pipeline from the files in ``spacy_pipeline/``.

Rasa's ``SpacyNLP`` loads it from a path (``config.yml``), so nothing is ever
downloaded: a blank English pipeline plus our tokenizer rules, a lemma table for
the typos customers write, and an entity ruler for browsers, platforms, devices,
contacts, URLs and ticket references.

Run ``python -m loginhelp.nlp.spacy_pipeline [SOURCE_DIR] [OUTPUT_DIR]``.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, cast

import spacy
import yaml
from spacy.language import Language
from spacy.symbols import NORM, ORTH

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO_ROOT / "spacy_pipeline"
DEFAULT_OUTPUT = REPO_ROOT / "build" / "spacy" / "loginhelp_en"
SOURCE_FILES = ("tokenizer.yml", "lemmas.yml", "entities.yml")
PIPELINE_NAME = "loginhelp_en"


def _load_yaml(path: Path) -> Dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def source_fingerprint(source: Path = DEFAULT_SOURCE) -> str:
    """Hash of the source files, stored in the pipeline's meta to tell if it is stale."""
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        digest.update(name.encode())
        digest.update((source / name).read_bytes())
    return digest.hexdigest()[:16]


def _configure_tokenizer(nlp: Language, rules: Dict[str, Any]) -> None:
    tokenizer: Any = nlp.tokenizer  # spaCy types it as a callable; it is a Tokenizer
    for text, norm in (rules.get("special_cases") or {}).items():
        tokenizer.add_special_case(str(text), [{ORTH: str(text), NORM: str(norm)}])
    patterns: List[str] = list(rules.get("token_match") or [])
    if patterns:
        # Inline flags must lead the whole expression; spaCy serialises only the
        # pattern string, so flags passed to re.compile would be lost on disk.
        combined = re.compile("(?i)" + "|".join(f"(?:{p})" for p in patterns))
        tokenizer.token_match = combined.match


def _lemma_patterns(
    lemmas: Dict[str, Iterable[str]], special_cases: Dict[str, str]
) -> List[Dict[str, Any]]:
    """Attribute-ruler patterns that give variants one lemma (Rasa reads the lemma)."""
    patterns: List[Dict[str, Any]] = []
    for lemma, variants in lemmas.items():
        forms = sorted({str(v).lower() for v in variants})
        patterns.append({"patterns": [[{"LOWER": {"IN": forms}}]], "attrs": {"LEMMA": lemma}})
    # Special cases carry a NORM; make it the lemma too so "2-FA" features as "2fa".
    by_norm: Dict[str, List[str]] = {}
    for text, norm in special_cases.items():
        by_norm.setdefault(str(norm), []).append(str(text))
    for norm, texts in sorted(by_norm.items()):
        patterns.append({"patterns": [[{"ORTH": {"IN": sorted(texts)}}]], "attrs": {"LEMMA": norm}})
    return patterns


def _entity_patterns(nlp: Language, entities: Dict[str, Any]) -> List[Dict[str, Any]]:
    patterns: List[Dict[str, Any]] = []
    for label, values in (entities.get("phrases") or {}).items():
        for value, phrases in values.items():
            for phrase in phrases:
                tokens = [t.text.lower() for t in nlp.make_doc(str(phrase))]
                patterns.append(
                    {"label": label, "id": str(value), "pattern": [{"LOWER": t} for t in tokens]}
                )
    for label, token_patterns in (entities.get("token_patterns") or {}).items():
        for pattern in token_patterns:
            patterns.append({"label": label, "pattern": pattern})
    return patterns


def build(source: Path = DEFAULT_SOURCE) -> Language:
    """Return the pipeline described by the files in ``source``."""
    tokenizer_rules = _load_yaml(source / "tokenizer.yml")
    lemmas = _load_yaml(source / "lemmas.yml")
    entities = _load_yaml(source / "entities.yml")

    nlp = spacy.blank("en")
    _configure_tokenizer(nlp, tokenizer_rules)
    ruler: Any = nlp.add_pipe("attribute_ruler")
    for item in _lemma_patterns(lemmas, tokenizer_rules.get("special_cases") or {}):
        ruler.add(patterns=item["patterns"], attrs=item["attrs"])
    entity_ruler: Any = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    entity_ruler.add_patterns(_entity_patterns(nlp, entities))

    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "CoinEx login-help tokenizer rules, lemmas and entity patterns"
    nlp.meta["source_fingerprint"] = source_fingerprint(source)
    return nlp


def is_current(output: Path = DEFAULT_OUTPUT, source: Path = DEFAULT_SOURCE) -> bool:
    """True when ``output`` was built from the present source files."""
    meta = output / "meta.json"
    if not meta.exists():
        return False
    built = json.loads(meta.read_text(encoding="utf-8")).get("source_fingerprint")
    return built == source_fingerprint(source)


def main(argv: List[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    source = Path(args[0]) if args else DEFAULT_SOURCE
    output = Path(args[1]) if len(args) > 1 else DEFAULT_OUTPUT
    if is_current(output, source):
        (output / "meta.json").touch()  # tell make it is fresh
        print(f"spaCy pipeline {output} is up to date")
        return 0
    nlp = build(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    print(f"built spaCy pipeline {output} ({len(cast(Any, nlp.get_pipe('entity_ruler')))} entity patterns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
