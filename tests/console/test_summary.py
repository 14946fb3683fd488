"""Summaries and transcripts from events (pure functions, no database)."""
from __future__ import annotations

import json

from loginhelp.transcripts.events import StoredEvent
from loginhelp.transcripts.summary import ABANDONED, HANDED, SOLVED, search_words, summarize
from loginhelp.transcripts.synthetic import DID_THAT_HELP, TICKET_BUTTONS, ConversationWriter
from loginhelp.transcripts.transcript import build_transcript

from .helpers import T0


def stored(writer: ConversationWriter) -> list[StoredEvent]:
    return [
        StoredEvent(i + 1, r["sender_id"], r["type_name"], r["timestamp"], json.loads(r["data"]))
        for i, r in enumerate(writer.rows)
    ]


def browser_start(w: ConversationWriter) -> ConversationWriter:
    w.session_start().user("login page blank in chrome", "browser_issue", 0.91,
                           [{"entity": "browser", "value": "chrome", "extractor": "SpacyEntityExtractor"}])
    w.action("action_start_branch").bot("Clear Chrome's cache.", response="utter_step_clear_cache_chrome")
    w.bot("Did that help?", DID_THAT_HELP, "utter_did_that_help")
    return w.slot("branch", "browser").slot("pending", "step_feedback").listen()


def test_solved_conversation() -> None:
    w = browser_start(ConversationWriter("c1", T0, "socketio", {"user_agent": "Mozilla/5.0"}))
    w.user("yes it worked", "problem_solved", 0.99).action("action_close_case").bot("Great!").slot("branch", None).listen()
    s = summarize("c1", stored(w), 0.55)
    assert (s.channel, s.turns, s.sessions, s.branch, s.base_outcome) == ("socketio", 2, 1, "browser", SOLVED)
    assert s.low_confidence_turns == 0
    assert s.intents == ["browser_issue", "problem_solved"]
    assert s.first_message == "login page blank in chrome"
    assert s.started_at == w.rows[0]["timestamp"] and s.last_at == w.rows[-1]["timestamp"]
    assert "chrome" in s.search_text.split() and "help" in s.search_text.split()  # customer and assistant words


def test_ticket_offer_accepted_is_handed_to_support() -> None:
    w = browser_start(ConversationWriter("c2", T0))
    w.user("no", "still_broken").action("action_continue_branch").bot("Shall I open a ticket?", TICKET_BUTTONS)
    w.slot("pending", "ticket_offer").listen()
    w.user("yes", "affirm").action("utter_ticket_placeholder").bot("I'll gather a ticket.").listen()
    assert summarize("c2", stored(w), 0.55).base_outcome == HANDED


def test_affirm_without_offer_is_not_a_handover() -> None:
    w = browser_start(ConversationWriter("c3", T0))
    w.user("yes", "affirm").action("action_close_case").listen()  # "yes" to "did that help?"
    assert summarize("c3", stored(w), 0.55).base_outcome == SOLVED
    w2 = browser_start(ConversationWriter("c4", T0)).user("ok", "affirm").listen()
    assert summarize("c4", stored(w2), 0.55).base_outcome == ABANDONED


def test_contact_support_and_abandoned() -> None:
    w = ConversationWriter("c5", T0).session_start().user("human please", "contact_support", 0.9).listen()
    assert summarize("c5", stored(w), 0.55).base_outcome == HANDED
    assert summarize("c6", stored(browser_start(ConversationWriter("c6", T0))), 0.55).base_outcome == ABANDONED


def test_low_confidence_turns_counted_once_each() -> None:
    w = ConversationWriter("c7", T0).session_start()
    w.user("asdf", "nlu_fallback", 0.55).action("action_help_menu").bot("Sorry?", response="utter_default").listen()
    w.user("login thing", "login_problem", 0.41).listen()  # below threshold
    w.user("blah", "greet", 0.9).action("action_help_menu").listen()  # confident but the help menu ran
    w.user("my 2fa code is rejected", "twofa_code_rejected", 0.93).listen()
    assert summarize("c7", stored(w), 0.55).low_confidence_turns == 3
    assert summarize("c7", stored(w), 0.40).low_confidence_turns == 2


def test_all_sessions_count() -> None:
    w = browser_start(ConversationWriter("c8", T0))
    w.session_start(gap=7200).user("hello again", "greet").listen()
    s = summarize("c8", stored(w), 0.55)
    assert (s.sessions, s.turns) == (2, 2)
    t = build_transcript("c8", stored(w), 0.55)
    assert [len([x for x in session.turns if x.is_message]) for session in t.sessions] == [1, 1]
    # The second session's start events belong to the second session, not to the last turn of the first.
    assert all(s.name != "session_started_metadata" for s in t.sessions[0].turns[-1].slots)


def test_secrets_never_reach_the_summary_or_transcript() -> None:
    w = ConversationWriter("c9", T0).session_start()
    w.user("my password is Hunter2secret!", "share_secret", 1.0,
           [{"entity": "email", "value": "pw Hunter2secret!"}]).listen()
    events = stored(w)
    s = summarize("c9", events, 0.55)
    t = build_transcript("c9", events, 0.55)
    assert "hunter2secret" not in s.search_text and "Hunter2secret" not in (s.first_message or "")
    assert "Hunter2secret" not in json.dumps(t.to_dict())
    assert t.turns[1].text == "my password is [redacted password]"


def test_transcript_turns_keep_everything_in_order() -> None:
    w = browser_start(ConversationWriter("c10", T0, "rest", {"lang": "en"}))
    t = build_transcript("c10", stored(w), 0.55)
    turn = t.turns[1]
    assert (turn.number, turn.text, turn.intent, turn.input_channel) == (1, "login page blank in chrome", "browser_issue", "rest")
    assert turn.entities[0]["entity"] == "browser" and turn.entities[0]["value"] == "chrome"
    assert [r.text for r in turn.replies] == ["Clear Chrome's cache.", "Did that help?"]
    assert turn.replies[1].buttons == DID_THAT_HELP
    assert [a.name for a in turn.actions] == ["action_start_branch"]  # action_listen hidden
    assert [(s.name, s.value) for s in turn.slots] == [("branch", "browser"), ("pending", "step_feedback")]
    assert turn.metadata == {"lang": "en"}
    exported = t.to_dict()
    assert exported["sessions"][0]["turns"][-1]["time"].startswith("2024-11-26T")


def test_search_words_match_on_both_backends() -> None:
    assert search_words("Visit COINEX.com, code_2003!") == ["visit", "coinex", "com", "code", "2003"]


def test_a_message_read_again_in_context_is_one_low_confidence_turn() -> None:
    w = browser_start(ConversationWriter("c9", T0, "rest", {}))
    w.user("nothing in the spam either", "nlu_fallback", 0.55).action("action_read_in_context")
    w._add("rewind", {})
    w.listen()
    w.user("nothing in the spam either", "still_broken", 1.0, read_in_context=True)
    s = summarize("c9", stored(w), 0.55)
    assert s.turns == 2 and s.low_confidence_turns == 1
    assert s.intents == ["browser_issue", "nlu_fallback", "still_broken"]
    assert s.search_text.split().count("spam") == 1


def test_a_message_read_again_in_context_is_one_transcript_turn_with_its_reading() -> None:
    w = browser_start(ConversationWriter("c11", T0, "rest", {}))
    w.user("nothing in the spam either", "nlu_fallback", 0.55).action("action_read_in_context")
    w._add("rewind", {})
    w.listen()
    w.user("nothing in the spam either", "still_broken", 1.0, read_in_context=True)
    w.action("action_continue_branch").bot("Try another browser.", response="utter_step_other_browser").listen()
    turns = [t for t in build_transcript("c11", stored(w), 0.55).turns if t.is_message]
    assert [(t.number, t.text, t.intent, t.read_as) for t in turns] == [
        (1, "login page blank in chrome", "browser_issue", None),
        (2, "nothing in the spam either", "nlu_fallback", "still_broken"),
    ]
    assert turns[1].low_confidence and [r.text for r in turns[1].replies] == ["Try another browser."]
