"""Every client scenario (tests/scenarios) through every Python client: httpx, httpx async and
requests, against the emulator, with the client's log records, spans and metrics checked
against the requests the emulator received (scenario_telemetry.py). The counts print as
``python-scenarios (<client>): ...``."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from emulator_fixtures import Emulator
from scenarios import load_scenarios, run_scenario

SCENARIOS = load_scenarios()
CLIENTS = ["httpx", "httpx_async", "requests"]


def _aborts(scenario: Dict[str, Any]) -> bool:
    return any(step.get("abort_after_ms") is not None for step in scenario["steps"])


# A blocking client has no way for its caller to abort a call in flight, so a scenario whose
# caller aborts is not made for it (rather than made and skipped: a skip would prove nothing).
CASES = [(client, s) for client in CLIENTS for s in SCENARIOS if client == "httpx_async" or not _aborts(s)]


@pytest.mark.parametrize(("client", "scenario"), CASES, ids=[f"{c}-{s['name']}" for c, s in CASES])
def test_scenario(emulator: Emulator, client: str, scenario: Dict[str, Any]) -> None:
    run_scenario(emulator, scenario, client)
