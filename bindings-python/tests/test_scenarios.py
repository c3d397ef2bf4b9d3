"""Every client scenario (tests/scenarios) through every Python client: httpx, httpx async and
requests, against the emulator. The counts print as ``python-scenarios (<client>): ...``."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from emulator_fixtures import Emulator
from scenarios import load_scenarios, run_scenario

SCENARIOS = load_scenarios()
CLIENTS = ["httpx", "httpx_async", "requests"]


def _aborts(scenario: Dict[str, Any]) -> bool:
    return any(step.get("abort_after_ms") is not None for step in scenario["steps"])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
@pytest.mark.parametrize("client", CLIENTS)
def test_scenario(emulator: Emulator, client: str, scenario: Dict[str, Any]) -> None:
    if client != "httpx_async" and _aborts(scenario):
        pytest.skip("a blocking client has no way for its caller to abort a call in flight")
    run_scenario(emulator, scenario, client)
