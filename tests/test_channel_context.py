"""User agents from the widget become browser, platform and device."""
from __future__ import annotations

import pytest

from actions.channel_context import client_from_user_agent, client_info, platform_from_device
from tests.conftest import make_tracker

UAS = {
    "chrome_windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/115.0.5790.110 Safari/537.36",
    "edge_windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "samsung_chrome": "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
}


@pytest.mark.parametrize(
    "ua, browser, platform",
    [("chrome_windows", "chrome", "web"), ("edge_windows", "edge", "web"),
     ("safari_iphone", "safari", "ios"), ("samsung_chrome", "chrome", "android")],
)
def test_user_agents(ua, browser, platform):
    info = client_from_user_agent(UAS[ua])
    assert (info.browser, info.platform) == (browser, platform)
    assert info.browser_version and info.device


def test_chrome_version_and_samsung_device():
    assert client_from_user_agent(UAS["chrome_windows"]).browser_version == "Chrome 115.0.5790"
    assert "Samsung" in client_from_user_agent(UAS["samsung_chrome"]).device


@pytest.mark.parametrize("ua", [None, "", "x" * 5000, "curl/8.0", 42])
def test_garbage_user_agents_give_nothing_wrong(ua):
    info = client_from_user_agent(ua)
    assert info.browser is None


def test_metadata_of_the_latest_message_is_used():
    tracker = make_tracker(metadata={"user_agent": UAS["edge_windows"]})
    assert client_info(tracker).browser == "edge"


@pytest.mark.parametrize(
    "device, platform",
    [("iPhone 14", "ios"), ("Samsung Galaxy S23", "android"), ("Pixel 7", "android"),
     ("Windows laptop", "web"), ("MacBook Air", "web"), ("toaster", None), (None, None)],
)
def test_platform_from_device(device, platform):
    assert platform_from_device(device) == platform


@pytest.mark.parametrize("value", [None, "soon", True, [1], {"a": 1}, -5])
def test_bad_client_time_is_ignored(value):
    from actions.channel_context import clock_skew_seconds

    tracker = make_tracker(metadata={"client_time": value})
    tracker.events = [{"event": "user", "timestamp": 1_800_000_000.0}]
    assert clock_skew_seconds(tracker) is None


@pytest.mark.parametrize("seconds, text", [(45, "45 s ahead"), (-3725, "1 h 2 min 5 s behind"), (120, "2 min ahead")])
def test_describe_skew(seconds, text):
    from actions.channel_context import describe_skew

    assert describe_skew(seconds) == text
