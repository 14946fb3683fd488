"""CoinEx's status page, read by the assistant instead of sending the customer to it.

Why: "is CoinEx down?" has an answer the assistant can fetch (loginhelp.status_page,
when ``STATUS_PAGE_URL`` is set). The steps are walked by synchronous code, so the
actions that may show the status step call :func:`refresh` first (one fetch per
minute at most, shared by every conversation) and the step reads what that call
got with :func:`latest`. Unset, or unreachable: today's advice to check it oneself.
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import Optional

from rasa_sdk.executor import CollectingDispatcher

from loginhelp.status_page import (
    StatusCheck,
    StatusReport,
    format_utc,
    incident_since,
    shared_client,
)

#: What the customer was told: nothing wrong (go on with the next step), a problem on
#: CoinEx's side (wait for it), or the page could not be read (check it yourself).
CLEAR, PROBLEM, UNCHECKED = "clear", "problem", "unchecked"
#: The indicator that means trouble whatever the components are called.
CRITICAL = "critical"


#: What refresh() got for the action being run (each action call is its own task).
_checked: ContextVar[Optional[StatusCheck]] = ContextVar("status_checked", default=None)


async def refresh() -> Optional[StatusCheck]:
    """Ask the page (or the cache) for the action being run; None when no status page is configured."""
    client = shared_client()
    check = None if client is None else await client.current()
    _checked.set(check)
    return check


def latest() -> Optional[StatusCheck]:
    """What :func:`refresh` got for the action being run; None when not configured or not asked."""
    return _checked.get()


def affects_login(report: StatusReport) -> bool:
    """Whether the page reports something that can stop a login: an incident, outage or
    maintenance about logging in, any maintenance under way, or the whole platform down.
    A major incident elsewhere (deposits of one coin) is not why a login fails."""
    return report.indicator == CRITICAL or report.login_affected or report.maintenance_in_progress


def say_status(dispatcher: CollectingDispatcher, check: StatusCheck) -> str:
    """Tell the customer what the page says; returns CLEAR, PROBLEM or UNCHECKED."""
    report = check.report
    if report is None:
        dispatcher.utter_message(response="utter_status_unchecked")
        return UNCHECKED
    if affects_login(report):
        maintenance = next((m for m in report.maintenances if m.in_progress), None)
        # The incident about logging in, else the first one.
        incident = report.login_incident or next(iter(report.incidents), None)
        if incident is not None:
            since = incident_since(incident)
            dispatcher.utter_message(response="utter_status_incident", name=incident.name,
                                     since=f" (since {since})" if since else "")
        elif maintenance is not None:
            until = f" until {format_utc(maintenance.ends)}" if maintenance.ends else ""
            dispatcher.utter_message(response="utter_status_maintenance", name=maintenance.name, until=until)
        else:
            dispatcher.utter_message(response="utter_status_degraded",
                                     description=report.description or "a major outage")
        return PROBLEM
    if report.all_clear:
        dispatcher.utter_message(response="utter_status_all_clear")
    else:
        # Something elsewhere (deposits of one coin, say): not why a login fails.
        elsewhere = report.incidents[0].name if report.incidents else report.description
        dispatcher.utter_message(response="utter_status_minor_elsewhere", description=elsewhere or "an issue")
    return CLEAR
