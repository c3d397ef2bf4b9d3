"""The emulator process and its control API (``/__emulator/``), over the standard library only."""

from __future__ import annotations

import atexit
import collections
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence, Union

BINARY_NAME = "iproov-emulator"
ENV_BINARY = "IPROOV_EMULATOR_BIN"


class EmulatorError(Exception):
    """The emulator could not be found, did not start, or refused a control call.

    ``code``: ``binary_not_found``, ``start_failed``, ``unreachable``, or the emulator's own
    error code (``unknown_claim``, ``invalid_request``, ...). ``status``: the HTTP status of a
    refused control call. ``method`` and ``path``: that call. ``stderr``: the emulator's last
    stderr output when the process failed.
    """

    def __init__(
        self,
        code: str,
        description: str,
        *,
        status: Optional[int] = None,
        method: Optional[str] = None,
        path: Optional[str] = None,
        stderr: Optional[str] = None,
    ) -> None:
        self.code = code
        self.description = description
        self.status = status
        self.method = method
        self.path = path
        self.stderr = stderr
        where = f" ({method} {path} -> {status})" if method else ""
        tail = f"\nemulator stderr:\n{stderr}" if stderr else ""
        super().__init__(f"{code}: {description}{where}{tail}")


@dataclass(frozen=True)
class Credentials:
    """One service provider of the emulator: what your backend configures for iProov."""

    name: str
    region: str
    api_key: str
    secret: str
    oauth_username: str
    oauth_password: str


def _script_dirs() -> List[str]:
    # pip puts a wheel's bin target in the scripts dir of the scheme it installed into: the
    # venv's bin (sys.executable's folder), or the user scheme's with `pip install --user`.
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for scheme in (f"{os.name}_user", "osx_framework_user"):
        try:
            dirs.append(sysconfig.get_path("scripts", scheme))
        except KeyError:
            pass
    return list(dict.fromkeys(d for d in dirs if d))


def find_binary() -> Path:
    """The emulator executable: ``$IPROOV_EMULATOR_BIN`` if set, else the one this wheel
    installed beside the interpreter, else ``iproov-emulator`` on ``PATH``."""
    explicit = os.environ.get(ENV_BINARY)
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise EmulatorError("binary_not_found", f"{ENV_BINARY}={explicit} is not an executable file")
        return Path(explicit)
    searched = _script_dirs()
    for found in [shutil.which(BINARY_NAME, path=d) for d in searched] + [shutil.which(BINARY_NAME)]:
        if found:
            return Path(found)
    raise EmulatorError(
        "binary_not_found",
        f"no {BINARY_NAME} in {', '.join(searched)} or on PATH: pip install iproov-emulator, or set {ENV_BINARY}",
    )


def _die_with_parent() -> Optional[Callable[[], None]]:
    """Linux, main thread: a preexec_fn by which the kernel kills the emulator when the test
    process dies, even by SIGKILL, so a crashed or killed pytest never leaves one running.
    (The signal follows the thread that forked, hence the main thread only.)"""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it

    def preexec() -> None:  # pragma: no cover - runs in the child between fork and exec
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    return preexec


class Emulator:
    """A running emulator on loopback. Every helper is one control API call; a refusal raises
    :class:`EmulatorError`. Times: ``delay_ms`` in milliseconds, clock ``seconds`` in seconds."""

    def __init__(self, url: str, process: Optional["subprocess.Popen[bytes]"] = None) -> None:
        self.url = url  #: ``http://127.0.0.1:PORT``
        self._process = process
        self._stderr: Deque[str] = collections.deque(maxlen=200)
        self._config_file: Optional[str] = None
        self._providers: Optional[List[Credentials]] = None

    # -- where and who -------------------------------------------------------------------
    def base_url(self, region: str = "eu") -> str:
        """The region's REST base, ``http://127.0.0.1:PORT/{region}/api/v2`` (the stand-in for
        ``https://{region}.rp.secure.iproov.me/api/v2``)."""
        return f"{self.url}/{region}/api/v2"

    @property
    def service_providers(self) -> List[Credentials]:
        """Every configured service provider, in configuration order."""
        if self._providers is None:
            sps = self.control("GET", "/config")["service_providers"]
            fields = Credentials.__dataclass_fields__
            self._providers = [Credentials(**{k: sp[k] for k in fields}) for sp in sps]
        return list(self._providers)

    def credentials(self, region: str = "eu", *, name: Optional[str] = None) -> Credentials:
        """The service provider called ``name``, else the region's first (built-in:
        ``eu-default``, ``us-default``)."""
        for sp in self.service_providers:
            if (sp.name == name) if name is not None else (sp.region == region):
                return sp
        raise EmulatorError("unknown_service_provider", f"no service provider {name or 'in ' + region}")

    def environ(self, region: str = "eu") -> Dict[str, str]:
        """``IPROOV_BASE_URL``, ``IPROOV_API_KEY``, ``IPROOV_SECRET``, ``IPROOV_OAUTH_USERNAME``,
        ``IPROOV_OAUTH_PASSWORD`` for the region's first service provider (what
        ``iproov_sansio``'s clients read), and ``IPROOV_REGION`` empty (read as unset), so that
        a region in your shell does not point the clients at iProov instead."""
        sp = self.credentials(region)
        return {
            "IPROOV_REGION": "",
            "IPROOV_BASE_URL": self.base_url(region),
            "IPROOV_API_KEY": sp.api_key,
            "IPROOV_SECRET": sp.secret,
            "IPROOV_OAUTH_USERNAME": sp.oauth_username,
            "IPROOV_OAUTH_PASSWORD": sp.oauth_password,
        }

    # -- the user's phone ---------------------------------------------------------------
    def complete_claim(self, token: str, *, passed: bool = True, reason: Optional[str] = None, **extra: Any) -> Any:
        """Finishes the capture of a claim, as the user's device would; validate then answers
        ``passed``/``reason``. ``extra``: ``frame``, ``signals``, ``return_frame_quality``.
        Answers the claim (a dict)."""
        body: Dict[str, Any] = {"passed": passed, **extra}
        if reason is not None:
            body["reason"] = reason
        return self.control("POST", f"/claims/{urllib.parse.quote(token, safe='')}/complete", body)

    def add_user(self, user_id: str, *, status: str = "Active", api_key: Optional[str] = None) -> Any:
        """Creates an enrolled user (``status``: ``Active``, ``Inactive``, ``Suspended``,
        ``Deleted``) of ``api_key``'s service provider (default: eu's first)."""
        key = api_key or self.credentials("eu").api_key
        return self.control("POST", "/users", {"api_key": key, "user_id": user_id, "status": status})

    # -- a bad network and a bad day -------------------------------------------------------
    def inject_fault(
        self,
        path: str,
        *,
        status: Optional[int] = None,
        delay_ms: int = 0,
        reset: bool = False,
        times: int = 1,
        **rule: Any,
    ) -> int:
        """Makes the next ``times`` requests whose path ends with ``path`` (e.g.
        ``/claim/enrol/token``) fail: with HTTP ``status``, or a connection reset (``reset``),
        after ``delay_ms`` milliseconds; only ``delay_ms`` just slows them down. ``rule``:
        further fault fields (``method``, ``region``, ``json``, ``headers``, ``after_handler``,
        ``kind``, ``hold``, ``hold_ms``; tests/emulator/README.md). Answers the rule's id."""
        kind = "reset" if reset else "status" if status is not None else "delay"
        body: Dict[str, Any] = {"path": path, "kind": kind, "times": times, "delay_ms": delay_ms}
        if status is not None:
            body["status"] = status
        body.update(rule)
        return int(self.control("POST", "/faults", body)["id"])

    def clear_faults(self) -> None:
        """Drops every fault rule not used up yet (and lets held requests go on)."""
        self.control("DELETE", "/faults")

    def held(self) -> int:
        """Requests a ``hold=True`` fault keeps waiting now (``inject_fault(path, hold=True)``:
        held until :meth:`release_held`, a reset, or 60 s at most)."""
        return int(self.control("GET", "/faults")["held"])

    def release_held(self) -> int:
        """Lets every held request go on; returns how many were held."""
        return int(self.control("POST", "/faults/release")["released"])

    def set_rate_limit(self, per_second: Optional[int], *, api_key: Optional[str] = None) -> None:
        """Token requests per second (sliding 1 s window) of ``api_key``'s service provider
        (default: eu's first) before 429 ``too_many_requests``; ``None`` lifts it."""
        key = api_key or self.credentials("eu").api_key
        self.control("PUT", f"/service-providers/{key}/rate-limit", {"per_second": per_second})

    def mark_down(self) -> None:
        """iProov is down: every API call answers 500 ``server_error``, ``/availability`` says so."""
        self.control("PUT", "/availability", {"up": False})

    def mark_up(self) -> None:
        """iProov is up again."""
        self.control("PUT", "/availability", {"up": True})

    def advance_clock(self, seconds: int) -> Any:
        """Moves the emulator's clock ``seconds`` forward (claims and OAuth tokens expire on it).
        Answers ``{"now", "now_ms", "offset_secs"}``."""
        return self.control("POST", "/clock/advance", {"seconds": seconds})

    def request_count(self, path: Optional[str] = None, *, method: Optional[str] = None) -> int:
        """How many API requests arrived (faulted ones included) whose path ends with ``path``
        (all requests when ``None``), of ``method`` if given."""
        if path is None:
            return int(self.control("GET", "/requests")["total"])
        query = {"path": path, **({"method": method} if method else {})}
        return int(self.control("GET", f"/requests?{urllib.parse.urlencode(query)}")["count"])

    def requests(
        self, path: Optional[str] = None, *, method: Optional[str] = None, since: Optional[int] = None
    ) -> List[Dict[str, Any]]:
        """The request journal: the API requests received (faulted and refused ones included),
        oldest first, whose path ends with ``path``, of ``method``, after the ``seq``
        ``since`` (see :meth:`journal_mark`). Each is a dict: ``seq``, ``method``, ``path``,
        ``query``, ``headers``, ``body_bytes`` and the body as ``json``, ``form``,
        ``multipart`` or ``text``, with every credential (api_key, secret, OAuth password,
        access tokens) shown as ``***``; claim tokens are kept. tests/emulator/README.md, "The
        request journal", has the whole shape and the bounds on large bodies."""
        query: Dict[str, Union[str, int]] = {}
        if path is not None:
            query["path"] = path
        if method is not None:
            query["method"] = method
        if since is not None:
            query["since"] = since
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        return list(self.control("GET", f"/journal{suffix}")["requests"])

    def journal_mark(self) -> int:
        """The ``seq`` of the newest request received so far (0 before any): pass it as
        ``requests(since=...)`` to see only the requests that come after."""
        return int(self.control("GET", "/journal?limit=0")["last_seq"])

    # -- presets -----------------------------------------------------------------------
    def presets(self) -> List[Dict[str, Any]]:
        """The emulator's named presets: ``[{"name", "description", "options"}]``."""
        return list(self.control("GET", "/presets")["presets"])

    def load_preset(self, name: str, **options: Any) -> Any:
        """Loads a named preset (``pass``, ``fail``, ``rate_limited``, ``outage``,
        ``region_mismatch``, ``slow_network``, ...; ``none`` clears it) with its options
        (e.g. ``reason``, ``retry_after_secs``, ``delay_ms``, ``api_key``): the emulator
        decides what each does (see :meth:`presets`). Answers ``{"preset": name, ...}``."""
        return self.control("PUT", "/preset", {"name": name, **options})

    def reset(self) -> None:
        """Forgets users, claims, tokens, faults, counters, the request journal, clock offset,
        rate limits, outage and preset."""
        self.control("POST", "/reset")

    # -- plumbing ----------------------------------------------------------------------
    def control(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> Any:
        """One control API call (``/__emulator{path}``); answers the decoded JSON or ``None``."""
        data = None if body is None else json.dumps(body).encode()
        headers = {} if data is None else {"Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}/__emulator{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                answer = json.loads(raw)
                code, description = answer["error"], answer.get("error_description", "")
            except (ValueError, KeyError, TypeError):
                code, description = "unexpected_answer", raw[:500].decode(errors="replace")
            raise EmulatorError(code, description, status=error.code, method=method, path=path) from None
        except OSError as error:
            raise EmulatorError(
                "unreachable", f"{error} ({self._exit_note()})", method=method, path=path, stderr=self.stderr
            ) from None
        return json.loads(text) if text else None

    @property
    def stderr(self) -> str:
        """The emulator's last stderr lines (up to 200)."""
        return "".join(self._stderr)

    def _exit_note(self) -> str:
        code = self._process.poll() if self._process else None
        return "still running" if code is None else f"exited with {code}"

    def stop(self) -> None:
        """Stops the process (SIGTERM, then SIGKILL after 5 s). Idempotent."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._config_file:
            os.unlink(self._config_file)
            self._config_file = None

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    *,
    binary: Union[str, "os.PathLike[str]", None] = None,
    config: Optional[Mapping[str, Any]] = None,
    args: Sequence[str] = (),
    timeout_s: float = 30.0,
) -> Emulator:
    """Starts the emulator on a free port of 127.0.0.1 and waits (up to ``timeout_s`` seconds)
    until it listens. ``config``: an emulator configuration (service providers, lifetimes;
    tests/emulator/README.md) instead of the built-in one. Stop it with :meth:`Emulator.stop`
    or a ``with`` block; it is also stopped when Python exits."""
    command = [str(binary or find_binary()), "--host", "127.0.0.1", "--port", "0", *args]
    config_file = None
    if config is not None:
        fd, config_file = tempfile.mkstemp(prefix="iproov-emulator-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        command += ["--config", config_file]
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent(),
        )
    except OSError as error:
        if config_file:
            os.unlink(config_file)
        raise EmulatorError("start_failed", f"{' '.join(command)}: {error}") from None
    emulator = Emulator("", process)
    emulator._config_file = config_file
    atexit.register(emulator.stop)
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def pump_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:  # keeps draining so the emulator never blocks on a full pipe
            lines.put(line.decode(errors="replace"))
        lines.put(None)

    def pump_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            emulator._stderr.append(line.decode(errors="replace"))

    pumps = [threading.Thread(target=f, daemon=True, name=f"iproov-emulator-{f.__name__}") for f in (pump_stdout, pump_stderr)]
    for pump in pumps:
        pump.start()
    try:
        first = lines.get(timeout=timeout_s)
    except queue.Empty:
        first = ""
    prefix = "listening on "
    if first is None or not first.startswith(prefix):
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        pumps[1].join(timeout=1)  # the stderr pump has read why it exited
        if first is None:
            note = "its stdout closed before a 'listening on' line"
        else:
            note = f"first stdout line {first.strip()!r}" if first else f"no 'listening on' line within {timeout_s} s"
        note += f" ({emulator._exit_note()})"
        emulator.stop()
        raise EmulatorError("start_failed", f"{' '.join(command)}: {note}", stderr=emulator.stderr)
    emulator.url = first[len(prefix) :].strip()
    return emulator
