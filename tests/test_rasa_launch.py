"""loginhelp.rasa_launch: the cached validator judges action responses exactly as Rasa's own."""
from __future__ import annotations

from typing import Any, Dict

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from loginhelp import rasa_launch

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "pending", "value": None}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "action", "name": "action_listen"}],
     "responses": [{"response": "utter_greet", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"name": "no event key"}]},
    {"events": [], "responses": "nope"},
    {"events": [{"event": 5}]},
]


@pytest.fixture()
def validators(monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    original = RemoteAction._validate_action_result
    monkeypatch.setattr(RemoteAction, "_validate_action_result", original)  # undone after the test
    rasa_launch.cache_action_response_validator()
    return {"rasa": original, "cached": RemoteAction._validate_action_result}


def _verdict(validate: Any, response: Dict[str, Any]) -> str:
    try:
        validate(RemoteAction("action_test", None), response)
    except jsonschema.ValidationError:
        return "invalid"
    return "valid"


@pytest.mark.parametrize("response", VALID + INVALID)
def test_cached_validator_agrees_with_rasa(validators: Dict[str, Any], response: Dict[str, Any]) -> None:
    assert validators["cached"] is not validators["rasa"]
    assert _verdict(validators["cached"], response) == _verdict(validators["rasa"], response)


def test_invalid_response_still_raises_with_rasa_hint(validators: Dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        validators["cached"](RemoteAction("action_test", None), INVALID[0])
    assert _verdict(validators["cached"], VALID[1]) == "valid"


def test_cases_cover_both_verdicts(validators: Dict[str, Any]) -> None:
    """The agreement test means something only if Rasa accepts VALID and rejects INVALID."""
    assert [_verdict(validators["rasa"], r) for r in VALID] == ["valid"] * len(VALID)
    assert [_verdict(validators["rasa"], r) for r in INVALID] == ["invalid"] * len(INVALID)
