"""Console pages and exports through Flask's test client: list, transcript, review, tickets, CSV/JSON/YAML."""
from __future__ import annotations

import csv
import io
import json
from typing import Callable

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from loginhelp.tickets.repository import TicketRepository
from loginhelp.transcripts.synthetic import DID_THAT_HELP, ConversationWriter

from .helpers import AGENT_EMAIL, T0, post_form, ticket_for

XSS_TEXT = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def conversation(cid: str, start: float = T0, text: str = "the login page is blank in chrome", channel: str = "socketio",
                 confidence: float = 0.91) -> ConversationWriter:
    w = ConversationWriter(cid, start, channel, {"user_agent": "Mozilla/5.0 Chrome/120"}).session_start()
    w.user(text, "browser_issue", confidence, [{"entity": "browser", "value": "chrome", "extractor": "SpacyEntityExtractor"}])
    w.action("action_start_branch").bot("Clear Chrome's cache and cookies.", response="utter_step_clear_cache_chrome")
    w.bot("Did that help?", DID_THAT_HELP, "utter_did_that_help")
    return w.slot("branch", "browser").slot("pending", "step_feedback").listen()


def hostile(cid: str = "xss-1") -> ConversationWriter:
    w = ConversationWriter(cid, T0 + 50, "rest", {"note": XSS_TEXT}).session_start()
    w.user(XSS_TEXT, "nlu_fallback", 0.55, [{"entity": "url", "value": XSS_TEXT}]).action("action_help_menu")
    w.bot(f"Echo: {XSS_TEXT}", [{"title": XSS_TEXT, "payload": "/greet"}], "utter_default").slot("email", XSS_TEXT).listen()
    return w


SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_list_filters_and_pages(agent_client: FlaskClient, write: Callable, app: Flask) -> None:
    write(*(conversation(f"c{i:03d}", T0 + i * 60, channel="telegram" if i % 2 else "socketio") for i in range(55)))
    page = agent_client.get("/conversations").get_data(as_text=True)
    assert '<span data-testid="total">55</span>' in page and "Page 1 of 2" in page and "c054" in page
    assert "c000" in agent_client.get("/conversations?page=2").get_data(as_text=True)
    filtered = agent_client.get("/conversations?channel=telegram&q=chrome&low_confidence=").get_data(as_text=True)
    assert '<span data-testid="total">27</span>' in filtered
    bad = agent_client.get("/conversations?outcome=nonsense").get_data(as_text=True)
    assert "Ignored filter outcome" in bad and '<span data-testid="total">55</span>' in bad


@SQLITE_ONLY
def test_transcript_shows_every_detail_escaped(agent_client: FlaskClient, write: Callable, tickets: TicketRepository) -> None:
    write(conversation("t-1"), hostile())
    ref = ticket_for(tickets, "t-1").reference
    page = agent_client.get("/transcripts/t-1").get_data(as_text=True)
    for expected in ("the login page is blank in chrome", "browser_issue", "0.91", "browser=chrome",
                     "Clear Chrome&#39;s cache and cookies.", "Yes, I&#39;m in", "action_start_branch",
                     "branch = &#34;browser&#34;",
                     "user_agent", ref, "ticket"):
        assert expected in page, expected
    evil = agent_client.get("/transcripts/xss-1").get_data(as_text=True)
    assert "<script>window" not in evil and "<img src=x" not in evil
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in evil
    assert "onerror=&#34;window.__xss=2&#34;" in evil or "onerror=&quot;" in evil
    listing = agent_client.get("/conversations").get_data(as_text=True)
    assert "<script>window" not in listing and "&lt;script&gt;" in listing
    assert agent_client.get("/transcripts/nobody").status_code == 404


@SQLITE_ONLY
def test_review_tags_notes_and_corrections(agent_client: FlaskClient, write: Callable, app: Flask) -> None:
    write(conversation("r-1", confidence=0.42))
    page = "/transcripts/r-1"
    assert post_form(agent_client, page, {"action": "reviewed"}, page).status_code == 302
    post_form(agent_client, page, {"action": "add_tag", "tag": "Wrong Branch"}, page)
    post_form(agent_client, page, {"action": "add_note", "note": "asked about <b>2FA</b>, my password is Hunter22secret"}, page)
    transcript = app.extensions["loginhelp_console"].transcripts.transcript("r-1")
    event_id = transcript.turns[1].event_id
    post_form(agent_client, page, {"action": "correct", "event_id": event_id, "intent": "twofa_code_rejected"}, page)
    bad = post_form(agent_client, page, {"action": "correct", "event_id": event_id, "intent": "made_up_intent"}, page)
    assert bad.status_code == 302
    html = agent_client.get(page).get_data(as_text=True)
    assert f"reviewed by {AGENT_EMAIL}" in html and "wrong-branch" in html
    assert "asked about &lt;b&gt;2FA&lt;/b&gt;" in html and "Hunter22secret" not in html  # notes are redacted too
    assert "corrected to twofa_code_rejected" in html
    listed = agent_client.get("/conversations?reviewed=yes&tag=wrong-branch").get_data(as_text=True)
    assert "r-1" in listed

    exported = agent_client.get("/corrections/export.yml")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    data = yaml.safe_load(exported.get_data(as_text=True))
    assert data["version"] == "3.1"
    assert data["nlu"] == [{"intent": "twofa_code_rejected", "examples": "- the login page is blank in chrome\n"}]
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    training = RasaYAMLReader().reads(exported.get_data(as_text=True))
    assert [(m.get("text"), m.get("intent")) for m in training.intent_examples] == [
        ("the login page is blank in chrome", "twofa_code_rejected")
    ]
    post_form(agent_client, page, {"action": "uncorrect", "event_id": event_id}, page)
    assert yaml.safe_load(agent_client.get("/corrections/export.yml").get_data(as_text=True))["nlu"] == []


def test_ticket_status_change_is_what_the_assistant_reports(agent_client: FlaskClient, tickets: TicketRepository,
                                                            write: Callable) -> None:
    write(conversation("tk-1"))
    ticket = ticket_for(tickets, "tk-1")
    listing = agent_client.get("/tickets?status=open").get_data(as_text=True)
    assert ticket.reference in listing
    detail = agent_client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-testid="transcript-link"' in detail
    response = post_form(agent_client, f"/tickets/{ticket.reference}/status",
                         {"status": "in_progress", "note": "Asked the customer for an ID photo"})
    assert response.status_code == 302
    # What the assistant's ticket_status action reads: the ticket database, owned by the customer's conversation.
    seen = tickets.status_for(ticket.reference, conversation_id="tk-1")
    assert seen is not None and seen.status == "in_progress"
    last = seen.history[-1]
    assert (last.old_status, last.new_status, last.note, last.changed_by) == (
        "open", "in_progress", "Asked the customer for an ID photo", AGENT_EMAIL)
    assert "is now in progress" in agent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.reference not in agent_client.get("/tickets?status=open").get_data(as_text=True)
    assert post_form(agent_client, f"/tickets/{ticket.reference}/status", {"status": "exploded"}).status_code == 302
    assert tickets.get(ticket.reference).status == "in_progress"
    assert agent_client.get("/tickets/LH-ZZZZZZ").status_code == 404


@SQLITE_ONLY
def test_exports(agent_client: FlaskClient, write: Callable, tickets: TicketRepository) -> None:
    write(conversation("e-1"), conversation("e-2", T0 + 60, text="=HYPERLINK(\"http://evil\")"))
    ticket_for(tickets, "e-1", description="=cmd|' /C calc'!A0")
    rows = list(csv.DictReader(io.StringIO(agent_client.get("/conversations/export.csv").get_data(as_text=True))))
    assert [r["conversation_id"] for r in rows] == ["e-2", "e-1"]
    assert rows[0]["first_message"].startswith("'=")  # spreadsheet formulas neutralised
    assert rows[1]["outcome"] == "ticket" and rows[1]["tickets"].startswith("LH-")
    items = json.loads(agent_client.get("/conversations/export.json?transcripts=yes&q=blank").get_data(as_text=True))
    assert [i["conversation_id"] for i in items] == ["e-1"]
    assert items[0]["transcript"][0]["turns"][-1]["text"] == "the login page is blank in chrome"
    ticket_rows = list(csv.DictReader(io.StringIO(agent_client.get("/tickets/export.csv").get_data(as_text=True))))
    assert ticket_rows[0]["description"].startswith("'=")
    ticket_json = json.loads(agent_client.get("/tickets/export.json?status=open").get_data(as_text=True))
    assert ticket_json[0]["conversation_id"] == "e-1" and ticket_json[0]["history"]


@SQLITE_ONLY
def test_json_api(agent_client: FlaskClient, write: Callable, tickets: TicketRepository) -> None:
    write(conversation("api-1"))
    ref = ticket_for(tickets, "api-1").reference
    data = agent_client.get("/api/conversations?has_ticket=yes").get_json()
    assert data["total"] == 1 and data["conversations"][0]["tickets"][0]["reference"] == ref
    assert agent_client.get("/api/conversations?outcome=bogus").status_code == 400
    transcript = agent_client.get("/api/transcripts/api-1").get_json()
    assert transcript["summary"]["branch"] == "browser"
    assert transcript["sessions"][0]["turns"][-1]["intent"] == "browser_issue"
    assert agent_client.get(f"/api/tickets/{ref}").get_json()["reference"] == ref
    assert agent_client.get("/api/tickets?status=open").get_json()["tickets"][0]["reference"] == ref
    assert agent_client.get("/api/me").get_json()["email"] == AGENT_EMAIL
    assert agent_client.get("/api/transcripts/none").status_code == 404


@SQLITE_ONLY
def test_a_message_read_again_in_context_shows_once_with_its_reading(agent_client: FlaskClient, write: Callable) -> None:
    w = conversation("reread-1")
    w.user("nothing in the spam either", "nlu_fallback", 0.55).action("action_read_in_context")
    w._add("rewind", {})
    w.listen()
    w.user("nothing in the spam either", "still_broken", 1.0, read_in_context=True)
    w.action("action_continue_branch").bot("Try another browser.", response="utter_step_other_browser").listen()
    write(w)
    page = agent_client.get("/transcripts/reread-1").get_data(as_text=True)
    assert page.count(">nothing in the spam either<") == 1
    assert 'data-testid="read-as">read in context as still_broken<' in page
