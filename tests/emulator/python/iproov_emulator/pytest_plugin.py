"""The pytest plugin (entry point ``pytest11``): one emulator process per test session (per
xdist worker), reset before each test that asks for ``iproov_emulator``."""

from __future__ import annotations

from typing import Iterator

import pytest

from ._emulator import Emulator, start_emulator


@pytest.fixture(scope="session")
def iproov_emulator_session() -> Iterator[Emulator]:
    """The session's emulator, not reset between tests. Override this fixture in your
    conftest.py to start it with your own configuration: ``start_emulator(config={...})``."""
    emulator = start_emulator()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def iproov_emulator(iproov_emulator_session: Emulator) -> Emulator:
    """A running emulator with a clean state: no users, claims, faults, preset or rate limits,
    request counts at zero, clock offset 0."""
    iproov_emulator_session.reset()
    return iproov_emulator_session
