"""What the assistant's config says about fallbacks and intents (the tracker store's URL: loginhelp.db.engine)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..db.paths import REPO_ROOT

#: config.yml's FallbackClassifier threshold when the file cannot be read.
DEFAULT_FALLBACK_THRESHOLD = 0.55


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return None


@lru_cache(maxsize=4)
def fallback_threshold(config_path: Path = REPO_ROOT / "config.yml") -> float:
    """The FallbackClassifier threshold: below it an intent counts as low confidence."""
    config = _load_yaml(config_path) or {}
    for component in config.get("pipeline") or []:
        if isinstance(component, dict) and component.get("name") == "FallbackClassifier":
            try:
                return float(component.get("threshold", DEFAULT_FALLBACK_THRESHOLD))
            except (TypeError, ValueError):
                break
    return DEFAULT_FALLBACK_THRESHOLD


@lru_cache(maxsize=4)
def known_intents(domain_path: Path = REPO_ROOT / "domain.yml") -> tuple[str, ...]:
    """Intents of the domain, for the correction picker; empty when domain.yml is not shipped."""
    domain = _load_yaml(domain_path) or {}
    names: list[str] = []
    for item in domain.get("intents") or []:
        name = next(iter(item)) if isinstance(item, dict) else item
        if isinstance(name, str) and name not in names:
            names.append(name)
    return tuple(names)
