"""The Python examples of bindings-python/README.md, run in order against the emulator.

The blocks share one namespace, as a reader's session would. The environment points the
clients at the emulator. The quick start plays the user's phone itself (IPROOV_EMULATOR_URL):
it runs as written, first without that variable (nobody captured: ``False start_attempt``),
then with it (``True done``). For the blocks after it, the phone is played just before each
validate leaves (the claim completed through the emulator's control API), as bindings-node's
README test does: between "hand it to the SDK" and "validate" within one block as well as
across blocks."""

from __future__ import annotations

import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any, Dict, List, Set

import httpx
import pytest

import iproov_sansio as ip
from emulator_fixtures import EU, Emulator

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> List[str]:
    """The blocks a reader runs in one session; not the framework projects' files (a block
    that starts with ``# <file>.py``: test_django.py and test_flask.py run those)."""
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [b for b in blocks if not re.match(r"# \w+\.py\b", b)]


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 6


def test_readme_examples_run_against_the_emulator(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # the journeys example makes its SQLite file here
    monkeypatch.setenv("IPROOV_BASE_URL", emulator.base_url("eu"))
    monkeypatch.delenv("IPROOV_REGION", raising=False)
    monkeypatch.setenv("IPROOV_API_KEY", EU["api_key"])
    monkeypatch.setenv("IPROOV_SECRET", EU["secret"])
    monkeypatch.setenv("IPROOV_OAUTH_USERNAME", EU["oauth_username"])
    monkeypatch.setenv("IPROOV_OAUTH_PASSWORD", EU["oauth_password"])
    monkeypatch.setenv("DEMO_USER_ID", str(uuid.uuid4()))
    namespace: Dict[str, Any] = {"__name__": "readme"}
    blocks = python_blocks()
    quick_start = compile(blocks[0], "README.md block 1 (the quick start)", "exec")
    monkeypatch.delenv("IPROOV_EMULATOR_URL", raising=False)
    exec(quick_start, {"__name__": "readme"})
    assert capsys.readouterr().out == "False start_attempt\n"  # a validate before any capture
    monkeypatch.setenv("IPROOV_EMULATOR_URL", emulator.url)
    mark = emulator.journal_mark()
    exec(quick_start, namespace)
    assert capsys.readouterr().out == "True done\n"  # the phone played through the emulator
    assert emulator.count("/claim/enrol/validate") == 2
    # What iProov got from this run (the request journal): a token request, then one validate
    # of its token for the same user, with the quick start's `client`.
    token_request, validate = emulator.requests(since=mark)
    assert token_request["path"].endswith("/claim/enrol/token") and validate["path"].endswith("/claim/enrol/validate")
    assert validate["json"]["token"] == namespace["started"]["token"]
    assert validate["json"]["user_id"] == token_request["json"]["user_id"]
    assert (validate["json"]["client"], validate["json"]["secret"]) == ("Mozilla/5.0", "***")

    completed: Set[str] = set()
    send = httpx.Client.send

    def play_the_phone(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if request.url.path.endswith("/validate"):
            token = json.loads(request.content)["token"]
            if token not in completed:
                emulator.complete(token, passed=True)
                completed.add(token)
        return send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", play_the_phone)
    package = logging.getLogger("iproov_sansio")
    level = package.level
    try:
        for index, block in enumerate(blocks[1:], start=2):
            exec(compile(block, f"README.md block {index}", "exec"), namespace)
        # "Logs, traces and metrics": the logger at INFO, the availability call's spans printed.
        assert package.level == logging.INFO
    finally:
        package.setLevel(level)  # logging's default again for the tests after this one
    out = capsys.readouterr().out.split("\n")
    spans = [line for line in out if line.startswith("iproov.")]
    assert spans == ["iproov.send CLIENT", "iproov.call INTERNAL"], spans
    assert namespace["claim"].token in out
    assert "enrolled enrol" in out
    assert "active" in out and "True" in out
    assert "user_id invalid_input" in out
    assert "start_attempt" in out
    assert emulator.count("/claim/enrol/validate") == 3  # the quick start's two and the single call
    assert emulator.count("/access_token") == 1
