"""Personal API tokens: shown once, stored as a hash, the newest one only, never for a disabled account."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.handoff.models import api_tokens
from loginhelp.handoff.tokens import TOKEN_PREFIX, ApiTokens, token_hash


def test_a_token_identifies_its_agent_and_only_its_hash_is_stored(engine: Engine, agents: list[AgentView]) -> None:
    tokens = ApiTokens(engine)
    alice_token = tokens.issue(agents[0].id)
    bob_token = tokens.issue(agents[1].id)
    assert alice_token.startswith(TOKEN_PREFIX) and len(alice_token) > 40 and alice_token != bob_token
    assert tokens.agent_id_for(alice_token) == agents[0].id
    assert tokens.agent_id_for(bob_token) == agents[1].id
    with engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert sorted(stored) == sorted([token_hash(alice_token), token_hash(bob_token)])
    assert alice_token not in stored and bob_token not in stored


def test_bad_tokens_open_nothing(engine: Engine, agents: list[AgentView]) -> None:
    tokens = ApiTokens(engine)
    good = tokens.issue(agents[0].id)
    for bad in ("", good[:-1], good + "x", good.upper(), TOKEN_PREFIX, "x" * 500, token_hash(good)):
        assert tokens.agent_id_for(bad) is None, bad


def test_a_new_token_revokes_the_old_ones(engine: Engine, agents: list[AgentView]) -> None:
    tokens = ApiTokens(engine)
    old = tokens.issue(agents[0].id)
    bobs = tokens.issue(agents[1].id)
    new = tokens.issue(agents[0].id)
    assert tokens.agent_id_for(old) is None
    assert tokens.agent_id_for(new) == agents[0].id
    assert tokens.agent_id_for(bobs) == agents[1].id  # another agent's token is untouched
    assert tokens.revoke_all(agents[0].id) == 1
    assert tokens.agent_id_for(new) is None


def test_a_disabled_account_s_token_opens_nothing(engine: Engine, agents: list[AgentView]) -> None:
    tokens = ApiTokens(engine)
    token = tokens.issue(agents[1].id)
    AgentRepository(engine).set_active(agents[1].email, False)
    assert tokens.agent_id_for(token) is None
    AgentRepository(engine).set_active(agents[1].email, True)
    assert tokens.agent_id_for(token) == agents[1].id
