"""CoinEx's own domains and Telegram accounts, read from official.yml.

The list is data, not code, because it must follow what CoinEx publishes; a
frozen value so the look-alike tables built from it can be cached per list.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple, Union

import yaml

from .hosts import display_host, split_host

DEFAULT_PATH = Path(__file__).with_name("official.yml")


@dataclass(frozen=True)
class OfficialNames:
    """Official registrable domains (``coinex.com``) and Telegram handles (lower case, no @)."""

    domains: Tuple[str, ...]
    telegram: Tuple[str, ...] = ()
    name: str = "CoinEx"

    def __post_init__(self) -> None:
        domains = tuple(display_host(d) for d in self.domains)
        for domain in domains:
            parts = split_host(domain)
            if not parts.suffix or parts.registrable != domain:
                raise ValueError(f"{domain!r} is not a registrable domain (e.g. coinex.com)")
        object.__setattr__(self, "domains", domains)
        object.__setattr__(self, "telegram", tuple(h.strip().lstrip("@").lower() for h in self.telegram))

    @classmethod
    def load(cls, path: Optional[Union[str, Path]] = None) -> "OfficialNames":
        """Read the list from ``path`` (default: official.yml beside this module)."""
        data = yaml.safe_load(Path(path or DEFAULT_PATH).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not data.get("domains"):
            raise ValueError(f"{path or DEFAULT_PATH}: needs a 'domains' list")
        return cls(
            domains=tuple(str(d) for d in data["domains"]),
            telegram=tuple(str(h) for h in data.get("telegram") or ()),
            name=str(data.get("name") or "CoinEx"),
        )
