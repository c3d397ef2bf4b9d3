"""The pytest plugin (entry point ``pytest11``): one emulator process per test session (per
xdist worker), reset before each test that asks for ``iproov_emulator``; and the guard: a test
does not run while ``IPROOV_REGION``/``IPROOV_BASE_URL`` point at a real iProov region, unless
it is marked ``iproov_live`` or the run was started with ``--iproov-allow-live``."""

from __future__ import annotations

from typing import Iterator

import pytest

from ._emulator import Emulator, start_emulator
from ._guard import real_iproov_target, refusal


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("iproov-emulator").addoption(
        "--iproov-allow-live",
        action="store_true",
        default=False,
        help="let tests run while IPROOV_REGION/IPROOV_BASE_URL point at a real iProov region",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "iproov_live: the test may run while IPROOV_REGION/IPROOV_BASE_URL point at a real iProov region",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Checked after the test's fixtures ran (a fixture that points IPROOV_* at the emulator
    is enough) and before its body."""
    if item.config.getoption("iproov_allow_live") or item.get_closest_marker("iproov_live"):
        return
    reason = real_iproov_target()
    if reason is not None:
        pytest.fail(refusal(item.nodeid, reason), pytrace=False)


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
    request counts at zero and the request journal empty, clock offset 0."""
    iproov_emulator_session.reset()
    return iproov_emulator_session
