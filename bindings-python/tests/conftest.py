"""Shared fixtures: the vector count line and the emulator (see emulator.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_fixtures import *  # noqa: E402,F401,F403 - the emulator fixtures

_COUNTS: Dict[str, Dict[str, int]] = {}


def _bucket(nodeid: str) -> str:
    if "test_vectors.py::test_vector[" in nodeid:
        return "vectors"
    if "test_vectors.py::test_flow_vector[" in nodeid:
        return "flow-vectors"
    if "test_scenarios.py::test_scenario[" in nodeid:
        client = nodeid.split("test_scenario[", 1)[1].split("-", 1)[0]
        return f"scenarios ({client})"
    return ""


def pytest_runtest_logreport(report: Any) -> None:
    bucket = _bucket(report.nodeid)
    if not bucket:
        return
    counts = _COUNTS.setdefault(bucket, {"passed": 0, "failed": 0, "skipped": 0})
    if report.when == "call":
        counts["passed" if report.passed else "failed" if report.failed else "skipped"] += 1
    elif report.failed:  # setup/teardown errors count as failures
        counts["failed"] += 1
    elif report.skipped and report.when == "setup":
        counts["skipped"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for bucket, counts in sorted(_COUNTS.items(), reverse=True):
        line = f"python-{bucket}: {counts['passed']} passed, {counts['failed']} failed"
        if counts["skipped"]:
            line += f", {counts['skipped']} skipped"
        terminalreporter.write_line(line)
