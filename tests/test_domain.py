"""Domain hygiene that `rasa data validate` cannot see (responses used from code)."""
from __future__ import annotations

import re
from pathlib import Path

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
        if step.variant == "browser":
            used |= {f"{step.response}_{b}" for b in book.browsers + (playbook.OTHER_BROWSER,)}
        if step.variant == "platform":
            used |= {f"{step.response}_{p}" for p in book.phone_platforms}
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


def test_buttons_send_known_intents_and_entities(domain):
    intents, entities = set(domain["intents"]), set(domain["entities"])
    for name, variants in domain["responses"].items():
        for variant in variants:
            for button in variant.get("buttons", []):
                match = re.fullmatch(r"/(\w+)(\{.*\})?", button["payload"])
                assert match and match.group(1) in intents, (name, button)
                if match.group(2):
                    assert set(yaml.safe_load(match.group(2))) <= entities, (name, button)
