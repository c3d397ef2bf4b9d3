"""The emulator (tests/emulator, binary ``iproov-emulator``) as pytest fixtures: one process per
session on a free port, reset before every test that uses it."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]

# The emulator's built-in service providers (tests/emulator/README.md, "Default credentials").
EU = {
    "api_key": "eudefaultkey0000000000000000000000000000",
    "secret": "eudefaultsecret0000000000000000000000000",
    "oauth_username": "eu-default-oauth",
    "oauth_password": "eu-default-oauth-password",
}
US = {
    "api_key": "usdefaultkey0000000000000000000000000000",
    "secret": "usdefaultsecret0000000000000000000000000",
    "oauth_username": "us-default-oauth",
    "oauth_password": "us-default-oauth-password",
}

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class Emulator:
    """A running emulator: its URLs and its control API (``/__emulator/``)."""

    def __init__(self, url: str, process: "subprocess.Popen[bytes]") -> None:
        self.url = url
        self.process = process

    def base_url(self, region: str = "eu") -> str:
        return f"{self.url}/{region}/api/v2"

    def control(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/__emulator{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"control {method} {path}: {error.code} {error.read()!r}") from None
        return json.loads(text) if text else None

    def reset(self) -> None:
        self.control("POST", "/reset")

    def complete(self, token: str, passed: bool = True, **extra: Any) -> Any:
        return self.control("POST", f"/claims/{token}/complete", {"passed": passed, **extra})

    def fault(self, **rule: Any) -> Any:
        return self.control("POST", "/faults", rule)

    def until_held(self, n: int = 1) -> int:
        """Waits until ``n`` requests are held by a ``hold=True`` fault (tests/emulator/README.md,
        "Fault rules"): polled, for up to 60 s (a request sent is held within milliseconds).
        Returns how many are held."""
        deadline = time.monotonic() + 60
        while True:
            held = int(self.control("GET", "/faults")["held"])
            if held >= n:
                return held
            if time.monotonic() > deadline:
                raise AssertionError(f"{held} requests held after 60 s, not {n}")
            time.sleep(0.02)

    def release(self) -> int:
        """Lets every held request go on; returns how many were held."""
        return int(self.control("POST", "/faults/release")["released"])

    def count(self, path_suffix: str, method: Optional[str] = None) -> int:
        query = f"?path={urllib.request.quote(path_suffix)}"
        if method:
            query += f"&method={method}"
        return int(self.control("GET", f"/requests{query}")["count"])

    def total(self) -> int:
        return int(self.control("GET", "/requests")["total"])

    def requests(self, path_suffix: Optional[str] = None, since: Optional[int] = None) -> List[Dict[str, Any]]:
        """The request journal: the requests received (credentials masked), oldest first, whose
        path ends with ``path_suffix``, after the ``seq`` ``since`` (tests/emulator/README.md)."""
        query = urllib.parse.urlencode({k: v for k, v in (("path", path_suffix), ("since", since)) if v is not None})
        return list(self.control("GET", f"/journal?{query}")["requests"])

    def journal_mark(self) -> int:
        """The ``seq`` of the newest request received so far: ``requests(since=...)``'s start."""
        return int(self.control("GET", "/journal?limit=0")["last_seq"])

    def config(self, region: str = "eu", **extra: Any) -> Dict[str, Any]:
        """A vector-format config for the region's default service provider."""
        creds = EU if region == "eu" else US
        return {"base_url": self.base_url(region), **creds, **extra}


def refuses(url: str) -> bool:
    """Whether nothing accepts connections at ``url``'s host and port any more (``url``:
    ``http://HOST:PORT...``): how a test sees that a server it stopped is gone. Polled for up
    to 10 s: a listening socket can outlive its process's exit by a moment."""
    host, _, rest = url.split("://", 1)[1].partition(":")
    port = int(rest.split("/", 1)[0])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((host, port), timeout=10).close()
        except OSError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def stopped(process: "subprocess.Popen[Any]", url: str) -> None:
    """Ends ``process`` (TERM, then KILL after 10 s) and checks it is gone: reaped, and its
    port at ``url`` refusing connections."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode is not None
    assert refuses(url), f"{url} still accepts connections after its process ended"


def _binary() -> Path:
    explicit = os.environ.get("IPROOV_EMULATOR_BIN")
    if explicit:
        return Path(explicit)
    binary = REPO / "target" / "debug" / "iproov-emulator"
    if not binary.exists():
        subprocess.run(["cargo", "build", "-p", "iproov-emulator"], cwd=REPO, check=True)
    return binary


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[Emulator]:
    process = subprocess.Popen(
        [str(_binary()), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    lines: "queue.Queue[bytes]" = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:  # keep draining so the emulator never blocks on stdout
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        first = lines.get(timeout=30).decode().strip()
    except queue.Empty:
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError("the emulator did not start within 30 s") from None
    prefix = "listening on "
    if not first.startswith(prefix):
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(f"unexpected first line from the emulator: {first!r}")
    emulator = Emulator(first[len(prefix) :], process)
    try:
        yield emulator
    finally:
        stopped(process, emulator.url)


@pytest.fixture
def emulator(emulator_process: Emulator) -> Emulator:
    emulator_process.reset()
    return emulator_process
