"""The status-page client against the fake page in tests/fakes: what it reports, how it fails, what it caches."""
from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import time
import warnings
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

from loginhelp import status_page
from loginhelp.status_page import (
    Incident,
    StatusCheck,
    StatusPageClient,
    format_utc,
    incident_since,
    mentions_login,
    parse_summary,
    parse_time,
    shared_client,
)
from tests.fakes.status_page import (
    FakeStatusPage,
    closed_port_url,
    component,
    group,
    incident,
    maintenance,
    scenario,
    summary,
)

NOW = datetime(2024, 12, 5, 15, 0, tzinfo=timezone.utc)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def running_page() -> Iterator[FakeStatusPage]:
    with FakeStatusPage() as page:
        yield page


@pytest.fixture
def page(running_page: FakeStatusPage) -> FakeStatusPage:
    running_page.serve_scenario("operational")
    running_page.reset_requests()
    return running_page


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client_for(page: FakeStatusPage, clock: FakeClock, **options: float) -> StatusPageClient:
    settings = {"timeout": 2.0, "cache_seconds": 60.0, **options}
    return StatusPageClient(page.url, clock=clock, **settings)  # type: ignore[arg-type]


async def report_of(page: FakeStatusPage, clock: FakeClock, data: object) -> status_page.StatusReport:
    page.serve(data)
    check = await client_for(page, clock).current()
    assert check.ok, check
    assert check.report is not None
    return check.report


# --- What the page says ------------------------------------------------------------------


async def test_all_operational_is_all_clear(page: FakeStatusPage, clock: FakeClock) -> None:
    report = await report_of(page, clock, scenario("operational"))
    assert report.indicator == "none"
    assert report.description == "All Systems Operational"
    assert report.incidents == () and report.maintenances == () and report.affected_components == ()
    assert report.all_clear and not report.login_affected


@pytest.mark.parametrize("indicator", ["minor", "major", "critical"])
async def test_each_indicator_of_trouble(page: FakeStatusPage, clock: FakeClock, indicator: str) -> None:
    report = await report_of(page, clock, scenario(indicator))
    assert report.indicator == indicator
    assert report.description == {"minor": "Minor Service Outage", "major": "Partial System Outage",
                                  "critical": "Major Service Outage"}[indicator]
    assert not report.all_clear
    assert report.affected_components == ("Login",)
    assert [i.name for i in report.incidents] == ["Login failures"]
    assert report.incidents[0].impact == indicator
    assert report.login_affected


async def test_indicator_none_with_an_open_incident_is_not_all_clear(page: FakeStatusPage, clock: FakeClock) -> None:
    data = summary("none", incidents=[incident("Slow charts", NOW, impact="none")])
    report = await report_of(page, clock, data)
    assert report.indicator == "none" and not report.all_clear and not report.login_affected


async def test_degraded_component_is_named_and_groups_are_not(page: FakeStatusPage, clock: FakeClock) -> None:
    members = [component("Login", "degraded_performance"), component("Website"), component("Mobile App", "partial_outage")]
    data = summary("minor", components=[*group("Exchange", members, status="partial_outage"),
                                        component("Deposits", "major_outage")])
    report = await report_of(page, clock, data)
    assert report.affected_components == ("Login", "Mobile App", "Deposits")
    assert report.login_affected and not report.all_clear


async def test_outage_elsewhere_does_not_affect_login(page: FakeStatusPage, clock: FakeClock) -> None:
    report = await report_of(page, clock, scenario("deposits_outage"))
    assert report.affected_components == ("Deposits",)
    assert [(i.name, i.status) for i in report.incidents] == [("Delayed BTC deposits", "identified")]
    assert report.incidents[0].components == ("Deposits",)
    assert not report.login_affected and not report.all_clear


async def test_incident_names_its_start(page: FakeStatusPage, clock: FakeClock) -> None:
    started = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=20)
    data = summary("major", incidents=[incident("Users unable to sign in", started, status="monitoring")])
    report = await report_of(page, clock, data)
    (found,) = report.incidents
    assert found == Incident("Users unable to sign in", "major", "monitoring", started, ())
    # Today's time alone; another day's with its date (whatever the time of day the test runs at).
    assert incident_since(found, now=started) == f"{started:%H:%M} UTC"
    assert incident_since(found, now=started + timedelta(days=1)) == f"{started.day} {started:%b} {started:%H:%M} UTC"
    assert report.login_affected


async def test_incident_without_started_at_falls_back_to_created_at(page: FakeStatusPage, clock: FakeClock) -> None:
    entry = incident("API errors", NOW)
    del entry["started_at"]
    report = await report_of(page, clock, summary("minor", incidents=[entry]))
    assert report.incidents[0].started_at == NOW + timedelta(minutes=2)


async def test_resolved_incidents_and_nameless_entries_are_left_out(page: FakeStatusPage, clock: FakeClock) -> None:
    data = summary("none", incidents=[incident("Old login issue", NOW, status="resolved"),
                                      {**incident("x", NOW), "name": ""}])
    report = await report_of(page, clock, data)
    assert report.incidents == () and report.all_clear


async def test_maintenance_in_progress(page: FakeStatusPage, clock: FakeClock) -> None:
    report = await report_of(page, clock, scenario("maintenance_in_progress"))
    assert report.indicator == "maintenance"
    (work,) = report.maintenances
    assert work.name == "Account system upgrade" and work.in_progress
    assert work.starts is not None and work.ends is not None and work.starts < work.ends
    assert report.affected_components == ("Login",)
    assert not report.all_clear and report.login_affected


async def test_maintenance_scheduled_within_a_day_is_listed_but_all_is_clear(
    page: FakeStatusPage, clock: FakeClock
) -> None:
    report = await report_of(page, clock, scenario("maintenance_scheduled"))
    (work,) = report.maintenances
    assert work.name == "Wallet maintenance" and not work.in_progress
    assert report.all_clear and not report.login_affected


def test_which_maintenances_are_kept() -> None:
    hour = timedelta(hours=1)
    data = summary("none", maintenances=[
        maintenance("Tomorrow late", NOW + 30 * hour, NOW + 32 * hour),
        maintenance("Soon", NOW + 2 * hour, NOW + 3 * hour),
        maintenance("Verifying", NOW - 2 * hour, NOW + hour, status="verifying"),
        maintenance("Done", NOW - 2 * hour, NOW - hour, status="completed"),
        maintenance("Overdue and over", NOW - 3 * hour, NOW - hour),
        maintenance("Next night", NOW + 20 * hour, NOW + 22 * hour),
    ])
    kept = parse_summary(data, now=NOW).maintenances
    assert [(m.name, m.in_progress) for m in kept] == [("Verifying", True), ("Soon", False), ("Next night", False)]


@pytest.mark.parametrize("name, expected", [
    ("Login", True), ("Sign-in issues", True), ("sign in errors", True), ("2FA codes delayed", True),
    ("Account security", True), ("Mobile apps", True), ("Public API", True), ("Website", True),
    ("Authentication service", True), ("Deposits", False), ("Happy hour", False), ("Rapid withdrawals", False),
    ("Spot trading", False),
])
def test_which_names_are_about_logging_in(name: str, expected: bool) -> None:
    assert mentions_login(name) is expected


# --- Times -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2024-12-05T14:05:12.345Z", datetime(2024, 12, 5, 14, 5, 12, 345000, tzinfo=timezone.utc)),
    ("2024-12-05T08:05:12.3-06:00", datetime(2024, 12, 5, 14, 5, 12, 300000, tzinfo=timezone.utc)),
    ("2024-12-05T14:05:12", datetime(2024, 12, 5, 14, 5, 12, tzinfo=timezone.utc)),
    ("2024-12-05T14:05:12.1234567+00:00", datetime(2024, 12, 5, 14, 5, 12, 123456, tzinfo=timezone.utc)),
    ("yesterday", None), ("", None), (None, None), (1733407512, None),
])
def test_timestamps_are_read_as_utc(text: object, expected: datetime | None) -> None:
    assert parse_time(text) == expected


def test_times_are_written_with_the_date_only_when_not_today() -> None:
    moment = datetime(2024, 12, 5, 14, 5, tzinfo=timezone.utc)
    assert format_utc(moment, now=NOW) == "14:05 UTC"
    assert format_utc(moment - timedelta(days=2), now=NOW) == "3 Dec 14:05 UTC"
    assert format_utc(moment.replace(year=2023), now=NOW) == "5 Dec 2023 14:05 UTC"
    shanghai = timezone(timedelta(hours=8))
    assert format_utc(datetime(2024, 12, 5, 22, 5, tzinfo=shanghai), now=NOW) == "14:05 UTC"
    assert incident_since(Incident("x", "minor", "investigating", None)) == ""


# --- How it fails ------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "{not json", "", "[]", '"operational"', json.dumps({"components": []}),
    json.dumps({"status": {"indicator": "purple"}}), json.dumps({"status": "none"}),
    json.dumps(summary("none") | {"components": "all fine"}), "[" * 100_000 + "]" * 100_000,
    b"\xff\xfe\xfa not text",
])
async def test_malformed_summary_is_a_bad_response(page: FakeStatusPage, clock: FakeClock, body: str | bytes) -> None:
    page.serve_raw(body)
    check = await client_for(page, clock).current()
    assert (check.ok, check.failure) == (False, "bad_response"), check.detail


async def test_odd_entries_are_skipped_not_fatal(page: FakeStatusPage, clock: FakeClock) -> None:
    data = summary("minor", description=None) | {
        "components": [1, "Login", None, {"name": 5, "status": "major_outage"}, {"name": "Login", "status": 3},
                       {"name": "Website", "status": "partial_outage"}],
        "incidents": [[], {"name": "Login slow", "status": "investigating", "impact": 7, "started_at": "soon",
                           "components": "Login"}],
        "scheduled_maintenances": [{"name": "No dates", "status": "scheduled"}],
    }
    data["status"]["description"] = ["not", "text"]
    report = await report_of(page, clock, data)
    assert report.description == ""
    assert report.affected_components == ("Website",)
    assert report.incidents == (Incident("Login slow", "none", "investigating", None, ()),)
    assert report.maintenances == ()


@pytest.mark.parametrize("status", [500, 503, 404, 301])
async def test_error_status_is_a_bad_response(page: FakeStatusPage, clock: FakeClock, status: int) -> None:
    page.serve_error(status)
    check = await client_for(page, clock).current()
    assert check.failure == "bad_response" and check.detail == f"HTTP {status}"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_oversized_body_is_refused(page: FakeStatusPage, clock: FakeClock, chunked: bool) -> None:
    padded = summary("none") | {"padding": "x" * 2_000_000}
    page.serve_raw(json.dumps(padded), chunked=chunked)
    check = await client_for(page, clock).current()
    assert check.failure == "bad_response" and "larger than 1000000" in check.detail
    page.serve_raw(json.dumps(summary("none") | {"padding": "x" * 900_000}), chunked=chunked)
    assert (await client_for(page, clock).current()).ok


async def test_slow_page_times_out_within_the_timeout(page: FakeStatusPage, clock: FakeClock) -> None:
    page.serve(scenario("operational"), delay=5)
    started = time.monotonic()
    check = await client_for(page, clock, timeout=1.0).current()
    elapsed = time.monotonic() - started
    assert check.failure == "timeout"
    assert 0.9 <= elapsed < 2.0


async def test_closed_port_is_unreachable(clock: FakeClock) -> None:
    client = StatusPageClient(closed_port_url(), timeout=2, cache_seconds=60, clock=clock)
    started = time.monotonic()
    check = await client.current()
    assert check.failure == "unreachable" and check.report is None
    assert time.monotonic() - started < 2


async def test_a_failure_is_logged_once_while_cached(page: FakeStatusPage, clock: FakeClock,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    page.serve_error(500)
    client = client_for(page, clock)
    with caplog.at_level(logging.WARNING, logger="loginhelp.status_page"):
        await client.current()
        await client.current()
    assert [r.getMessage() for r in caplog.records if "Status page" in r.getMessage()] == [
        f"Status page {page.url}/api/v2/summary.json: bad_response (HTTP 500)"
    ]


# --- Cache -------------------------------------------------------------------------------


async def test_answer_is_reused_within_cache_seconds(page: FakeStatusPage, clock: FakeClock) -> None:
    client = client_for(page, clock, cache_seconds=60)
    first = await client.current()
    page.serve_scenario("critical")
    clock.advance(59)
    second = await client.current()
    assert page.requests == 1
    assert second is first and second.report is not None and second.report.indicator == "none"


async def test_answer_is_fetched_again_after_cache_seconds(page: FakeStatusPage, clock: FakeClock) -> None:
    client = client_for(page, clock, cache_seconds=60)
    await client.current()
    page.serve_scenario("critical")
    clock.advance(60)
    check = await client.current()
    assert page.requests == 2
    assert check.report is not None and check.report.indicator == "critical"


async def test_zero_cache_seconds_asks_every_time(page: FakeStatusPage, clock: FakeClock) -> None:
    client = client_for(page, clock, cache_seconds=0)
    await client.current()
    await client.current()
    assert page.requests == 2


async def test_concurrent_callers_share_one_fetch(page: FakeStatusPage, clock: FakeClock) -> None:
    page.serve(scenario("incident"), delay=0.3)
    client = client_for(page, clock)
    checks = await asyncio.gather(*(client.current() for _ in range(20)))
    assert page.requests == 1
    assert all(check is checks[0] for check in checks) and checks[0].ok


async def test_a_caller_that_gives_up_does_not_cancel_the_others(page: FakeStatusPage, clock: FakeClock) -> None:
    page.serve(scenario("incident"), delay=0.3)
    client = client_for(page, clock)
    quitter = asyncio.ensure_future(client.current())
    patient = asyncio.ensure_future(client.current())
    await asyncio.sleep(0.05)
    quitter.cancel()
    check = await patient
    assert quitter.cancelled() and check.ok and page.requests == 1
    assert client.cached() is check


async def test_failure_is_cached_briefly(page: FakeStatusPage, clock: FakeClock) -> None:
    page.serve_error(500)
    client = client_for(page, clock, cache_seconds=60)
    assert (await client.current()).failure == "bad_response"
    page.serve_scenario("operational")
    clock.advance(5)
    assert (await client.current()).failure == "bad_response"
    assert page.requests == 1
    clock.advance(5)
    check = await client.current()
    assert page.requests == 2 and check.ok


async def test_failure_is_cached_no_longer_than_answers(page: FakeStatusPage, clock: FakeClock) -> None:
    page.serve_error(500)
    client = client_for(page, clock, cache_seconds=3)
    await client.current()
    clock.advance(3)
    await client.current()
    assert page.requests == 2


async def test_timeouts_are_cached_too(page: FakeStatusPage, clock: FakeClock) -> None:
    page.serve(scenario("operational"), delay=2)
    client = client_for(page, clock, timeout=0.3)
    assert (await client.current()).failure == "timeout"
    assert (await client.current()).failure == "timeout"
    assert page.requests == 1


async def test_no_session_is_left_unclosed(page: FakeStatusPage, clock: FakeClock,
                                           caplog: pytest.LogCaptureFixture) -> None:
    client = client_for(page, clock, timeout=0.3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await client.current()
        page.serve(scenario("operational"), delay=1)
        clock.advance(3600)
        await client.current()
        gc.collect()
        await asyncio.sleep(0)
    assert not [w for w in caught if "nclosed" in str(w.message)]
    assert "Unclosed" not in caplog.text


# --- Settings ----------------------------------------------------------------------------


def test_no_client_without_a_status_page_url() -> None:
    assert StatusPageClient.from_settings(environ={}) is None


def test_client_from_settings() -> None:
    client = StatusPageClient.from_settings(environ={"STATUS_PAGE_URL": "https://status.example.test/"})
    assert client is not None
    assert client.summary_url == "https://status.example.test/api/v2/summary.json"
    assert (client.timeout, client.cache_seconds, client.failure_cache_seconds) == (2, 60, 10)
    client = StatusPageClient.from_settings(environ={
        "STATUS_PAGE_URL": "http://127.0.0.1:1", "STATUS_PAGE_TIMEOUT_SECONDS": "0.5", "STATUS_PAGE_CACHE_SECONDS": "5",
    })
    assert client is not None and (client.timeout, client.cache_seconds, client.failure_cache_seconds) == (0.5, 5, 5)


async def test_shared_client_is_one_per_process(page: FakeStatusPage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATUS_PAGE_URL", raising=False)
    shared_client.cache_clear()
    try:
        assert shared_client() is None
        shared_client.cache_clear()
        monkeypatch.setenv("STATUS_PAGE_URL", page.url)
        client = shared_client()
        assert client is not None and shared_client() is client
        assert (await client.current()).ok and (await shared_client().current()).ok  # type: ignore[union-attr]
        assert page.requests == 1
    finally:
        shared_client.cache_clear()


# --- The fake itself ---------------------------------------------------------------------


def test_fake_page_answers_another_process(page: FakeStatusPage) -> None:
    page.serve_scenario("maintenance_in_progress")
    code = "import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))['status']['indicator'])"
    out = subprocess.run([sys.executable, "-c", code, page.url + "/api/v2/summary.json"],
                         capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "maintenance"
    assert page.requests == 1


def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(KeyError):
        scenario("sunny")


def test_status_check_says_what_it_is() -> None:
    failed = StatusCheck.failed("timeout", "no answer")
    assert not failed.ok and failed.report is None and failed.failure == "timeout"
    good = StatusCheck.of(parse_summary(scenario("operational")))
    assert good.ok and good.failure is None
