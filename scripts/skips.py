#!/usr/bin/env python3
"""Checks a test runner's report against tests/skips-allowed.txt: the tests it skipped must be
exactly the ones listed for its label (a skip is a test that proved nothing, so it must be by
design and say why), it must have run at least one test, and none may have failed.

    python3 scripts/skips.py LABEL REPORT

REPORT is what the runner wrote: pytest's --junitxml (.xml), scripts/test-report.mjs's JSON
lines (.jsonl, node --test), or cargo test's output (.log). Prints one summary line."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Tuple

ALLOWED = Path(__file__).resolve().parent.parent / "tests" / "skips-allowed.txt"

Outcome = Tuple[str, str, str]  # (test, outcome: pass | fail | skip, reason)


def allowed(label: str) -> Dict[str, str]:
    """{test: reason} for LABEL. The file's lines: LABEL<TAB>TEST<TAB>REASON; # comments."""
    out: Dict[str, str] = {}
    for number, line in enumerate(ALLOWED.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            sys.exit(f"{ALLOWED}:{number}: not LABEL<TAB>TEST<TAB>REASON: {line!r}")
        if fields[0] == label:
            out[fields[1]] = fields[2]
    return out


def junit(path: Path) -> List[Outcome]:
    out = []
    for case in ET.parse(path).iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        skipped = case.find("skipped")
        if case.find("failure") is not None or case.find("error") is not None:
            out.append((test, "fail", ""))
        elif skipped is not None:
            out.append((test, "skip", skipped.get("message", "")))
        else:
            out.append((test, "pass", ""))
    return out


def node(path: Path) -> List[Outcome]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        # A suite that ran counts through its tests; a skipped one is one skip.
        if entry["suite"] and entry["outcome"] == "pass":
            continue
        outcome = "skip" if entry["outcome"] == "todo" else entry["outcome"]
        out.append((f"{entry['file']} > {entry['name']}", outcome, entry.get("reason", "")))
    return out


def cargo(path: Path) -> List[Outcome]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        found = re.match(r"^test (.+?) \.\.\. (ok|FAILED|ignored)(?:, (.*))?$", line.strip())
        if found:
            outcome = {"ok": "pass", "FAILED": "fail", "ignored": "skip"}[found.group(2)]
            out.append((found.group(1), outcome, found.group(3) or ""))
    return out


def main() -> int:
    label, report = sys.argv[1], Path(sys.argv[2])
    if not report.is_file():
        print(f"{label}: no report at {report} (did the runner start?)", file=sys.stderr)
        return 1
    reader = {".xml": junit, ".jsonl": node, ".log": cargo}[report.suffix]
    outcomes = reader(report)
    skipped = {test: reason for test, outcome, reason in outcomes if outcome == "skip"}
    failed = [test for test, outcome, _ in outcomes if outcome == "fail"]
    passed = sum(1 for _, outcome, _ in outcomes if outcome == "pass")
    expected = allowed(label)
    problems = []
    if passed == 0:
        problems.append("no test passed: the runner ran nothing")
    problems += [f"failed: {test}" for test in failed]
    problems += [f"skipped, not in tests/skips-allowed.txt: {test} ({reason or 'no reason given'})"
                 for test, reason in sorted(skipped.items()) if test not in expected]
    problems += [f"listed in tests/skips-allowed.txt but not skipped (it ran, or is gone): {test}"
                 for test in sorted(expected) if test not in skipped]
    if problems:
        for problem in problems:
            print(f"{label}: {problem}", file=sys.stderr)
        return 1
    line = f"{label}: {passed} passed, {len(skipped)} skipped"
    print(f"    {line}" + (" (each by design: tests/skips-allowed.txt)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
