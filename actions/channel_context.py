"""What the channel tells us about the customer's set-up.

The website widget sends the browser's user agent with every message (under the
socket.io ``metadata_key``); parsing it with the ``user-agents`` library lets the
assistant give browser-specific steps without asking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from rasa_sdk import Tracker
from user_agents import parse as parse_user_agent

from loginhelp.contract import REST_USER_AGENT_ALIAS, Metadata, RasaSlot

# ua-parser family names -> the assistant's browser values.
_BROWSER_FAMILIES = {
    "chrome": "chrome",
    "chrome mobile": "chrome",
    "chrome mobile ios": "chrome",
    "chromium": "chrome",
    "headlesschrome": "chrome",
    "firefox": "firefox",
    "firefox mobile": "firefox",
    "firefox ios": "firefox",
    "safari": "safari",
    "mobile safari": "safari",
    "edge": "edge",
    "edge mobile": "edge",
    "brave": "brave",
    "opera": "opera",
    "opera mobile": "opera",
}
# Words in a device name that reveal the platform.
_IOS_WORDS = ("iphone", "ipad", "ios")
_ANDROID_WORDS = ("android", "samsung", "galaxy", "pixel", "xiaomi", "redmi", "poco", "oneplus",
                  "huawei", "oppo", "vivo", "motorola", "moto", "nokia", "realme", "honor")
_DESKTOP_WORDS = ("windows", "mac", "macbook", "imac", "laptop", "pc", "computer", "chromebook", "desktop")


@dataclass(frozen=True)
class ClientInfo:
    """Browser, platform and device as far as the channel reveals them."""

    browser: Optional[str] = None
    browser_version: Optional[str] = None
    platform: Optional[str] = None
    device: Optional[str] = None
    user_agent: Optional[str] = None


def session_metadata(tracker: Tracker) -> Dict[str, Any]:
    """Custom data of the latest message (falls back to the session's metadata)."""
    metadata = dict(tracker.get_slot(RasaSlot.SESSION_STARTED_METADATA) or {})
    latest = (tracker.latest_message or {}).get("metadata") or {}
    metadata.update(latest)
    return metadata


def client_from_user_agent(user_agent: Optional[str]) -> ClientInfo:
    if not user_agent or not isinstance(user_agent, str):
        return ClientInfo()
    parsed = parse_user_agent(user_agent[:1024])
    family = (parsed.browser.family or "").lower()
    browser = _BROWSER_FAMILIES.get(family)
    os_family = (parsed.os.family or "").lower()
    if os_family == "ios" or "iphone" in os_family or "ipad" in os_family:
        platform = "ios"
    elif os_family == "android":
        platform = "android"
    elif parsed.is_pc:
        platform = "web"
    else:
        platform = None
    device_parts = [p for p in (parsed.device.brand, parsed.device.model) if p and p != "Other"]
    device: Optional[str]
    if device_parts and not parsed.is_pc:
        device = " ".join(dict.fromkeys(device_parts))
    else:
        os_name = f"{parsed.os.family} {parsed.os.version_string}".strip()
        device = os_name if os_name and parsed.os.family != "Other" else None
    version = parsed.browser.version_string
    browser_version = f"{parsed.browser.family} {version}".strip() if browser else None
    return ClientInfo(browser, browser_version, platform, device, user_agent)


def client_info(tracker: Tracker) -> ClientInfo:
    metadata = session_metadata(tracker)
    user_agent = metadata.get(Metadata.USER_AGENT) or metadata.get(REST_USER_AGENT_ALIAS)
    return client_from_user_agent(user_agent)


def platform_from_device(device: Optional[str]) -> Optional[str]:
    """Guess web/android/ios from a device name such as "Galaxy S23" or "iPhone 14"."""
    if not device:
        return None
    words = device.lower()
    if any(w in words for w in _IOS_WORDS):
        return "ios"
    if any(w in words for w in _ANDROID_WORDS):
        return "android"
    if any(w in words for w in _DESKTOP_WORDS):
        return "web"
    return None


def clock_skew_seconds(tracker: Tracker) -> Optional[float]:
    """How far the customer's device clock is from ours (positive: ahead).

    The widget sends ``client_time`` (epoch milliseconds) with each message; the
    server's receive time is the timestamp of the latest user event.
    """
    client_ms = session_metadata(tracker).get(Metadata.CLIENT_TIME)
    if isinstance(client_ms, bool) or not isinstance(client_ms, (int, float, str)):
        return None
    try:
        client = float(client_ms) / 1000.0
    except ValueError:
        return None
    received = next(
        (e.get("timestamp") for e in reversed(tracker.events or []) if e.get("event") == "user"),
        None,
    )
    if not isinstance(received, (int, float)) or client <= 0:
        return None
    return client - float(received)


def describe_skew(seconds: float) -> str:
    """ "2 min 10 s ahead" / "45 s behind" """
    direction = "ahead" if seconds > 0 else "behind"
    total = int(round(abs(seconds)))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs or not total else ""]
    return " ".join(p for p in parts if p) + f" {direction}"
