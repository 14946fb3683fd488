"""Host names the way a browser reads them.

A customer's link is judged by where it really goes, so the host is taken as a
browser takes it: percent-decoded, NFKC-mapped (full-width letters become plain
ones), lower-cased, with ideographic dots read as dots and ``xn--`` labels
decoded so the look-alike letters can be shown and named. The public-suffix
split uses tldextract's bundled snapshot only: nothing is downloaded, at import
or ever.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional
from urllib.parse import unquote, urlsplit

import tldextract

# Characters that IDNA maps to a full stop (ideographic, full-width, half-width).
_DOTS = re.compile("[\u3002\uff0e\uff61]")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]{0,15}://", re.IGNORECASE)
# Defanged schemes ("hxxps://") still point at a real host.
_DEFANGED = re.compile(r"^hxxp", re.IGNORECASE)


def display_label(label: str) -> str:
    """One label lower-cased, with an ``xn--`` label decoded to the letters it stands for."""
    label = label.lower()
    if not label.startswith("xn--"):
        return label
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except Exception:  # any malformed punycode: show it as written
        return label
    return unicodedata.normalize("NFC", decoded).lower()


def display_host(raw: str) -> str:
    """The host a browser would visit for ``raw``, in Unicode for display."""
    host = unicodedata.normalize("NFKC", unquote(raw))
    host = _DOTS.sub(".", host).strip().strip(".")
    return ".".join(display_label(label) for label in host.split("."))


def ascii_label(label: str) -> str:
    """The ASCII (punycode) form of one display label."""
    if label.isascii():
        return label
    try:
        return "xn--" + label.encode("punycode").decode("ascii")
    except Exception:  # lone surrogates and the like: nothing a registry would hold
        return label.encode("ascii", "replace").decode("ascii")


def ascii_host(host: str) -> str:
    """The ASCII (punycode) form of a display host, as DNS and the suffix list know it."""
    return ".".join(ascii_label(label) for label in host.split("."))


def ip_address(host: str) -> Optional[str]:
    """``host`` as an IP address, or None when it is a name."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@lru_cache(maxsize=1)
def extractor() -> tldextract.TLDExtract:
    """tldextract on its bundled public-suffix snapshot, with no cache and no URL to fetch."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


@dataclass(frozen=True)
class HostParts:
    """A display host cut at its public suffix: ``login`` / ``coinex-verify`` / ``io``."""

    host: str
    subdomain: str
    name: str
    suffix: str

    @property
    def registrable(self) -> str:
        """The name someone registered (``coinex-verify.io``), or the host when there is none."""
        if self.name and self.suffix:
            return f"{self.name}.{self.suffix}"
        return self.host


def split_host(host: str) -> HostParts:
    """Cut a display host into subdomain, registered name and public suffix."""
    labels = host.split(".")
    if ip_address(host) is not None or not all(labels):
        return HostParts(host, "", "", "")
    parts = extractor()(ascii_host(host))
    n_suffix = len(parts.suffix.split(".")) if parts.suffix else 0
    n_name = 1 if parts.domain else 0
    if not n_suffix or not n_name or n_suffix + n_name > len(labels):
        return HostParts(host, "", "", "")
    cut = len(labels) - n_suffix
    return HostParts(
        host=host,
        subdomain=".".join(labels[: cut - 1]),
        name=labels[cut - 1],
        suffix=".".join(labels[cut:]),
    )


@dataclass(frozen=True)
class UrlParts:
    """What matters in a link for its verdict: the decoy before ``@``, the host, the path."""

    userinfo: str
    host: str
    path: str


def split_url(text: str) -> Optional[UrlParts]:
    """Parse a link written with or without a scheme; None when it has no host.

    Backslashes count as slashes, as in browsers (``https://evil.io\\@coinex.com``
    goes to evil.io), and the part before the last ``@`` is credentials, not the host.
    """
    candidate = _DEFANGED.sub("http", text.strip()).replace("\\", "/")
    if not _SCHEME.match(candidate):
        candidate = "http://" + candidate
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):
        raw_host = hostport[1:].partition("]")[0]
    else:
        raw_host = hostport.partition(":")[0]
    host = display_host(raw_host)
    if not host:
        return None
    return UrlParts(userinfo=unquote(userinfo), host=host, path=unquote(parts.path))
