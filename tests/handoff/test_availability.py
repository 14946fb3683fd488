"""Who counts as available: a recent heartbeat, or the agent's own choice; away wins; disabled accounts never count."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from loginhelp.agents.repository import AgentRepository, AgentView
from loginhelp.handoff.availability import AvailabilityRepository

from .conftest import Clock


@pytest.fixture
def availability(engine: Engine, clock: Clock) -> AvailabilityRepository:
    return AvailabilityRepository(engine, window=timedelta(seconds=60), clock=clock)


def test_nobody_is_available_at_first(availability: AvailabilityRepository, agents: list[AgentView]) -> None:
    assert availability.available_count() == 0
    status = availability.status(agents[0].id)
    assert (status.available, status.chosen, status.heartbeat_at) == (False, None, None)


def test_a_heartbeat_counts_for_the_window(availability: AvailabilityRepository, agents: list[AgentView],
                                           clock: Clock) -> None:
    alice, bob = agents
    assert availability.heartbeat(alice.id).available
    availability.heartbeat(alice.id)  # the second beat updates the same row
    assert availability.available_count() == 1
    clock.advance(seconds=30)
    availability.heartbeat(bob.id)
    assert availability.available_count() == 2
    clock.advance(seconds=31)  # alice's page stopped beating 61 s ago
    assert availability.available_count() == 1
    assert not availability.status(alice.id).available and availability.status(bob.id).available
    clock.advance(seconds=30)
    assert availability.available_count() == 0


def test_the_agents_choice_wins_over_the_heartbeat(availability: AvailabilityRepository, agents: list[AgentView],
                                                   clock: Clock) -> None:
    alice, bob = agents
    assert availability.set_available(alice.id, True).available
    clock.advance(hours=3)  # no page open, still available
    assert availability.available_count() == 1
    availability.heartbeat(bob.id)
    status = availability.set_available(bob.id, False)
    assert (status.available, status.chosen) == (False, False)
    availability.heartbeat(bob.id)  # the page still open does not override "away"
    assert availability.available_count() == 1 and not availability.status(bob.id).available
    with pytest.raises(ValueError):
        availability.set_available(bob.id, "yes")  # type: ignore[arg-type]


def test_sign_out_forgets_and_disabled_accounts_never_count(availability: AvailabilityRepository, engine: Engine,
                                                            agents: list[AgentView]) -> None:
    alice, bob = agents
    availability.set_available(alice.id, True)
    availability.heartbeat(bob.id)
    assert availability.available_count() == 2
    availability.forget(alice.id)
    assert availability.available_count() == 1 and availability.status(alice.id).chosen is None
    AgentRepository(engine).set_active(bob.email, False)
    assert availability.available_count() == 0


def test_window_is_configurable(engine: Engine, clock: Clock, agents: list[AgentView]) -> None:
    short = AvailabilityRepository(engine, window=timedelta(seconds=5), clock=clock)
    short.heartbeat(agents[0].id)
    clock.advance(seconds=6)
    assert short.available_count() == 0
    assert AvailabilityRepository(engine, window=timedelta(seconds=10), clock=clock).available_count() == 1
    with pytest.raises(ValueError):
        AvailabilityRepository(engine, window=timedelta(0))
