"""Start Rasa with one run-time fix: ``python -m loginhelp.rasa_launch run --model ...``.

Takes the same arguments as the ``rasa`` command. Before handing over to Rasa's
own CLI it replaces ``RemoteAction._validate_action_result``, which in Rasa
3.6.21 calls ``jsonschema.validate(result, schema)`` on every custom-action
response. With jsonschema 4.17 that re-checks the schema against its
metaschema and builds a fresh validator and $ref resolver each time: 15-40 ms
of CPU per action call, the largest single cost of a turn in this assistant
(profiled in bench/README.md, "load"). The replacement validates against the
same schema with one validator built once, so the behaviour is unchanged (a
malformed response still raises jsonschema.ValidationError) and a turn with a
custom action costs roughly half as much.

Every mode starts Rasa through this module: ``make run`` (scripts/run.sh), every
production replica (scripts/run_prod.sh), the test servers and the benchmarks;
a container image uses it as its entry point (README, "Deployment").
"""
from __future__ import annotations

import functools
import sys
from typing import Any, Dict, Text


def cache_action_response_validator() -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    @functools.lru_cache(maxsize=1)
    def validator() -> Any:
        schema = RemoteAction.action_response_format_spec()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator().validate(result)
        except jsonschema.ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                "from the Action endpoint is valid."
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


def main() -> None:
    cache_action_response_validator()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
