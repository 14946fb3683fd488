"""Domain hygiene that `rasa data validate` cannot see (responses used from code)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

import yaml

from actions import playbook

REPO = Path(__file__).resolve().parents[1]
CONTRACT_INTENTS = """login_problem connection_issue wrong_credentials forgot_password phishing_check
account_locked kyc_verification twofa_code_rejected twofa_lost_access browser_issue app_issue
outage_check contact_support ticket_status problem_solved still_broken greet goodbye affirm deny
thanks bot_challenge out_of_scope inform""".split()


def _used_responses() -> set:
    used = set()
    for path in list((REPO / "data").rglob("*.yml")):
        used |= set(re.findall(r"\butter_[a-z0-9_]+", path.read_text()))
    for path in (REPO / "actions").glob("*.py"):
        used |= set(re.findall(r"\"(utter_[a-z0-9_]+)\"", path.read_text()))
    book = playbook.load()
    for step in book.steps.values():
        if step.variant != "browser":  # browser steps exist only per browser
            used.add(step.response)
        used.update(r for r in (step.if_not_needed, step.if_needed, step.if_works, step.waits, step.explains) if r)
        if step.variant == "browser":
            used |= {f"{step.response}_{b}" for b in book.browsers + (playbook.OTHER_BROWSER,)}
        if step.variant == "platform":
            used |= {f"{step.response}_{p}" for p in book.platform_versions}
    used |= {says for kinds in book.goes_on.values() for _, says in kinds.values()}
    return used


def test_every_response_is_used_somewhere(domain):
    forms = {f"utter_ask_{slot}" for form in domain["forms"].values() for slot in form["required_slots"]}
    unused = set(domain["responses"]) - _used_responses() - forms
    assert not unused, f"responses nobody says: {sorted(unused)}"


def test_every_response_used_exists(domain):
    missing = {r for r in _used_responses() if r not in domain["responses"]}
    assert not missing, sorted(missing)


def test_contract_intents_are_in_the_domain(domain):
    assert set(CONTRACT_INTENTS) <= set(domain["intents"])


def test_every_login_intent_has_a_rule():
    rules = yaml.safe_load((REPO / "data" / "rules.yml").read_text())["rules"]
    first_intents = {r["steps"][0].get("intent") for r in rules if "condition" not in r}
    for intent in CONTRACT_INTENTS:
        if intent in {"affirm", "deny", "inform"}:
            continue  # answers: their meaning depends on the question (conditioned rules)
        assert intent in first_intents, intent


async def rendered_buttons() -> List[Dict[str, Any]]:
    """Every button of every response as Rasa sends it (after its response interpolation)."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_domain = Domain.load(str(REPO / "domain.yml"))
    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    tracker = DialogueStateTracker("test", rasa_domain.slots)
    buttons = []
    for name, variants in rasa_domain.responses.items():
        for _ in variants:  # a variant is picked at random; enough draws see each one
            message = await nlg.generate(name, tracker, "rest")
            buttons += [{"response": name, **b} for b in (message or {}).get("buttons") or []]
    return buttons


# Buttons that send words, read by the NLU as if typed: asking for a person goes to the
# live chat when an agent is free, which "/contact_support" alone does not say.
TYPED_PAYLOADS = {"talk to a person"}


async def test_buttons_send_known_intents_and_entities(domain):
    """What a tapped button sends back parses, in Rasa's own payload syntax, to a known intent
    and entities. JSON payloads are written with doubled braces in domain.yml: Rasa's response
    interpolation reads `{...}` as a slot and would log an error on every send otherwise."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    import structlog

    rasa_domain = Domain.load(str(REPO / "domain.yml"))
    intents, entities = set(domain["intents"]), set(domain["entities"])
    with structlog.testing.capture_logs() as logs:
        buttons = await rendered_buttons()
    # (texts rendered here without their kwargs, e.g. {reason}, are expected to complain)
    errors = [log for log in logs if log.get("event") == "interpolator.interpolate.text"
              and str(log.get("response", "")).startswith("/")]
    assert not errors, f"Rasa could not interpolate these payloads: {errors[:3]}"
    assert sum("{" in b["payload"] for b in buttons) >= 10, "the platform and browser buttons carry entities"
    for button in buttons:
        payload = button["payload"]
        if payload in TYPED_PAYLOADS:
            continue
        assert "{{" not in payload and "}}" not in payload, button
        parsed = YAMLStoryReader.unpack_regex_message(Message.build(text=payload), rasa_domain)
        assert parsed.get("intent", {}).get("name") in intents, button
        found = {e["entity"] for e in parsed.get("entities") or []}
        assert found <= entities and bool(found) == ("{" in payload), button
