"""Journeys that are stored, not just driven: :class:`JourneyService` (a blocking client) and
:class:`AsyncJourneyService` (``iproov_sansio.httpx.AsyncClient``) run core's journey pump
(``core/src/service``) over a client, a store and a spool.

Core decides everything: the user's limits (attempts per flow in a window, token requests
per window, an optional budget for the whole service), one token request per attempt and one
validate per token across every process sharing the store, reconciling an inconclusive enrol
with iProov's users API, how long a failing store is tried again, what goes to the spool, and
every error. The loop here only carries out the pump's actions (``bindings-js/NATIVE.md``,
"The journey loop"): store calls, client calls, sleeps, spool appends.

**A store outage.** Before anything is sent to iProov, a store that raises ends the request
with :class:`~iproov_sansio.StoreUnavailableError` (``result`` ``None``: nothing happened; the
store's exception is its ``__cause__``). Once iProov answered a validate, the outcome is
written to the spool first (fsync), then to the store, tried again for a few seconds (core's
``STORE_RETRY_MS``); if the store still fails, the caller gets ``StoreUnavailableError`` with
the outcome in ``result``, the outcome is logged at ERROR (logger ``iproov_sansio.journeys``:
the journey and the outcome, never a token or secret), and the spool brings it into the store
later: :meth:`JourneyService.replay_spool` runs when the service is made, after a request at
most every 13 s while the spool file has lines (an entry is due 13 s after it was written; core's
``spool::replay_due``), and whenever you call it.

**The spool** is a JSON-lines file beside an SQLite store (``<db path>.spool.jsonl``); for
PostgreSQL give one (``PostgresStore(..., spool_path=...)`` or ``spool=``), a local path per
instance. ``spool=False`` runs without one (a validated outcome the store refuses then exists
only in the error the caller gets).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple, TypedDict, Union, cast

from . import _core
from . import telemetry as _telemetry
from ._errors import InvalidInputError, IProovError, StoreUnavailableError, from_dict
from ._shapes import (
    AuditRecord,
    JourneyFinished,
    JourneyForgotten,
    JourneyStarted,
    ResolvedServicePolicy,
    ServicePolicy,
)
from ._spool import Spool, Taken
from .stores import SQLiteStore

__all__ = [
    "AsyncJourneyService",
    "AsyncStore",
    "AuditRecord",
    "JourneyFinished",
    "JourneyForgotten",
    "JourneyHistory",
    "JourneyService",
    "JourneyStarted",
    "ResolvedServicePolicy",
    "ServicePolicy",
    "Store",
]

_log = logging.getLogger("iproov_sansio.journeys")

Record = Dict[str, Any]
SpoolOption = Union[str, "os.PathLike[str]", bool, None]
#: What ``start`` answers: a token, or the outcome of a journey that is over.
Started = Union[JourneyStarted, JourneyFinished]


class JourneyHistory(TypedDict):
    """One of a user's journeys as :meth:`JourneyService.history` gives it."""

    #: The journey's record as stored, without any token (core's ``service::view``).
    journey: Dict[str, Any]
    #: Its audit records, in order.
    audit: List[AuditRecord]


class Store(Protocol):
    """Where journeys live (``SQLiteStore``, ``PostgresStore``, or yours): each method is one
    statement, or one transaction, of core's schema (``_core.store_schema``); no logic.
    ``table`` is ``journeys`` or ``users``; a record is core's JSON (a dict) with ``id`` and
    ``version``. Any exception means the store failed (the service maps it)."""

    def get(self, table: str, id: str) -> Optional[Record]: ...
    def insert(self, table: str, record: Record) -> bool: ...
    def update(self, table: str, record: Record, expected_version: int) -> bool: ...
    def append_audit(self, journey_id: str, records: Sequence[Record]) -> None: ...
    def journeys_of(self, user_id: str) -> List[Record]: ...
    def audit_of(self, journey_id: str) -> List[Record]: ...
    def delete_expired(self, now_ms: int) -> int: ...
    def forget(self, user_id: str) -> Dict[str, int]: ...


class AsyncStore(Protocol):
    """:class:`Store` with coroutine methods (``AsyncPostgresStore``)."""

    async def get(self, table: str, id: str) -> Optional[Record]: ...
    async def insert(self, table: str, record: Record) -> bool: ...
    async def update(self, table: str, record: Record, expected_version: int) -> bool: ...
    async def append_audit(self, journey_id: str, records: Sequence[Record]) -> None: ...
    async def journeys_of(self, user_id: str) -> List[Record]: ...
    async def audit_of(self, journey_id: str) -> List[Record]: ...
    async def delete_expired(self, now_ms: int) -> int: ...
    async def forget(self, user_id: str) -> Dict[str, int]: ...


def _now() -> int:
    return int(time.time() * 1000)


class _Run:
    """One pump (``_core.pump_new``) and what its loop keeps between actions."""

    def __init__(self, service: "_Service", request: Dict[str, Any]) -> None:
        new_id = _core.random_user_id(os.urandom(16))
        if service._backoff:
            request = {**request, "backoff": service._backoff}
        if service._spool is not None and request["action"] != "replay":
            request = {**request, "spool_lines": service._spool.has_lines(), "replayed_ms": service._replayed_ms}
        self.pump = _core.pump_new(service._client.config._native, service._setup, json.dumps(request), new_id, _now())
        self.service = service
        self.cause: Optional[BaseException] = None

    def next(self, event: str) -> Dict[str, Any]:
        """The next action; raises the error of a ``failed`` one (its log at ERROR first)."""
        action: Dict[str, Any] = json.loads(_core.pump_next(self.pump, event, _now()))
        if "backoff" in action:  # core's, kept as it is for the next requests
            self.service._backoff = action["backoff"]
        if action.get("replay"):  # core's spool::replay_due
            self.service._replay_wanted = True
        if action.get("log"):
            _log.error("%s", action["log"])
        if "event" in action:  # the request's telemetry, on its end
            _telemetry.emit([action["event"]])
        if action["do"] == "failed":
            error = from_dict(action["error"])
            if isinstance(error, StoreUnavailableError) and self.cause is not None:
                raise error from self.cause
            raise error
        return action

    @staticmethod
    def store_call(action: Dict[str, Any]) -> Tuple[str, Tuple[Any, ...]]:
        do = action["do"]
        if do == "read":
            return "get", (action["table"], action["id"])
        if do == "insert":
            return "insert", (action["table"], action["record"])
        if do == "update":
            return "update", (action["table"], action["record"], int(action["expected_version"]))
        if do == "append_audit":
            return "append_audit", (action["journey_id"], action["records"])
        if do == "forget":
            return "forget", (action["user_id"],)
        raise RuntimeError(f"iproov_sansio: the journey pump asked for an unknown action {do!r}")

    @staticmethod
    def stored(do: str, out: Any) -> str:
        if do == "forget":
            return json.dumps({"forgotten": out})
        return json.dumps({"read": out} if do == "read" else {"written": do == "append_audit" or bool(out)})

    def store_failed(self, method: str, exc: BaseException) -> str:
        self.cause = exc  # the cause of the store_unavailable the pump may end with
        return json.dumps({"store_failed": method})

    @staticmethod
    def called(result: Any, error: Optional[IProovError], records: List[Record]) -> str:
        outcome = {"error": error.to_dict()} if error is not None else {"result": result.to_dict()}
        return json.dumps({**outcome, "audit": records})

    @staticmethod
    def spool_line(action: Dict[str, Any]) -> str:
        if action["do"] == "spool":
            return json.dumps(action["entry"])
        return _core.spool_tombstone(action["id"], _now())


class _Service:
    """What both services share: setup, requests, the spool's bookkeeping."""

    def __init__(self, client: Any, store: Any, policy: Optional[ServicePolicy], spool: SpoolOption) -> None:
        self._client = client
        self._store = store
        #: The token requests iProov said to hold back (core's ``service::backoff``, opaque).
        self._backoff: Dict[str, int] = {}
        options = getattr(client, "_driver_options", {})
        self._setup: str = _core.service_setup(json.dumps(dict(policy or {})), json.dumps(options))
        self._spool: Optional[Spool] = None
        if spool is not False:
            path = getattr(store, "spool_path", None) if spool is None or spool is True else spool
            if not isinstance(path, (str, os.PathLike)):
                raise InvalidInputError({
                    "code": "invalid_input", "kind": "invalid_input", "field": "spool",
                    "message": f"invalid spool: {type(store).__name__} has no default spool; give spool= a local "
                    "path (one per instance), or spool=False to run without one",
                })
            self._spool = Spool(path)
        #: When this service last replayed its spool (Unix ms; ``None``: not yet), and whether
        #: a finished pump said to replay it now (core's ``spool::replay_due``).
        self._replayed_ms: Optional[int] = None
        self._replay_wanted = False

    @property
    def policy(self) -> ResolvedServicePolicy:
        """The policy in force (core's defaults filled in, ``stale_validate_ms`` derived from
        the client): ``max_attempts``, ``attempt_window_ms``, ``user_token_requests``, ... ."""
        return cast(ResolvedServicePolicy, json.loads(self._setup)["policy"])

    @property
    def store(self) -> Any:
        """The store the service reads and writes."""
        return self._store

    @property
    def spool_path(self) -> Optional[Path]:
        """The spool file, or ``None`` (``spool=False``)."""
        return None if self._spool is None else self._spool.path

    def _request(self, action: str, fields: Dict[str, Any], interactive: bool, wait_s: Optional[float]) -> Dict[str, Any]:
        request = {"action": action, **{k: v for k, v in fields.items() if v is not None}}
        request.update(interactive=interactive, spool=self._spool is not None)
        if wait_s is not None:
            request["wait_ms"] = round(wait_s * 1000)
        return request

    @staticmethod
    def _store_error(method: str) -> IProovError:
        """Core's ``store_unavailable`` error for store ``method`` raising outside a pump
        (``_core.store_error``: the method, no journey, no text of the store's error, which
        the caller gets as ``__cause__``)."""
        return from_dict(json.loads(_core.store_error(method)))

    def _replay_due(self) -> bool:
        wanted, self._replay_wanted = self._replay_wanted, False
        return wanted

    def _append(self, line: str, durable: bool, wait: bool = True) -> Optional[str]:
        """The pump's event for a spool line appended (``None``: ``wait=False`` and a
        replayer held the file, nothing written)."""
        if self._spool is None:
            return '{"spooled": false}'
        try:
            if not self._spool.append([line], durable, wait):
                return None
        except OSError as exc:
            _log.error("iproov journeys: the spool %s refused a line: %s", self._spool.path, exc.strerror or exc)
            return '{"spooled": false}'
        return '{"spooled": true}'

    def _due(self, taken: Taken, now_ms: Optional[int]) -> Tuple[List[Record], List[str]]:
        due = json.loads(_core.spool_due(taken.text, _now() if now_ms is None else now_ms))
        return list(due["replay"]), list(due["keep"])

    def _put_back(self, taken: Taken, keep: List[str], failed: List[Record], wait: bool = True) -> bool:
        """Appends back what stays in the spool, then drops the taken files (kept for the
        next replayer if the append fails). ``wait=False``: ``False`` when another replayer
        holds the spool this moment (nothing done: call again, waiting)."""
        assert self._spool is not None
        done = False
        try:
            if not self._spool.append(keep + [json.dumps(e) for e in failed], durable=True, wait=wait):
                return False
            done = True
        except BaseException:
            self._spool.release(taken, False)
            raise
        self._spool.release(taken, done)
        if failed:
            _log.warning("iproov journeys: %d spooled outcome(s) still wait in %s for the store", len(failed), self._spool.path)
        return True


def _start_fields(flow: str, user_id: str, journey_id: Optional[str], assurance_type: Optional[str]) -> Dict[str, Any]:
    return {"flow": flow, "user_id": user_id, "journey_id": journey_id, "assurance_type": assurance_type}


def _finish_fields(journey_id: str, token: str, client: str, user_id: Optional[str]) -> Dict[str, Any]:
    return {"journey_id": journey_id, "token": token, "client": client, "user_id": user_id}


def _exit_fields(journey_id: str, token: str, event: str, client: str, feedback: Optional[str],
                 user_id: Optional[str]) -> Dict[str, Any]:
    return {**_finish_fields(journey_id, token, client, user_id), "event": event, "feedback": feedback}


class JourneyService(_Service):
    """A user's enrol or verify journey over a blocking client (``iproov_sansio.httpx.Client``
    or ``iproov_sansio.requests.Client``) and a :class:`Store` (``SQLiteStore``, or
    ``PostgresStore`` for many instances); see the module docs for store outages and the
    spool.

    ``policy``: core's service policy, every field optional (``max_attempts`` 3,
    ``attempt_window_ms`` 1 h, ``user_token_requests`` 10, ``token_window_ms`` 1 h,
    ``service_token_requests`` none, ``service_window_ms`` 1 day, ``token_ttl_ms`` 120000,
    ``stale_validate_ms`` derived from the client, ``retention_ms`` 30 days, ``resource``).
    ``spool``: ``None`` (the store's default), a path, or ``False``. Raises
    ``InvalidInputError`` at once for an unusable policy (naming the field) or when the store
    has no default spool and none is given (field ``spool``). Replays the spool before it
    returns (outcomes a crashed process left).
    """

    def __init__(self, client: Any, store: Store, *, policy: Optional[ServicePolicy] = None, spool: SpoolOption = None) -> None:
        super().__init__(client, store, policy, spool)
        self.replay_spool()

    def _pump(self, request: Dict[str, Any]) -> Dict[str, Any]:
        run = _Run(self, request)
        event = ""
        while True:
            action = run.next(event)
            do = action["do"]
            if do == "done":
                answer: Dict[str, Any] = action["answer"]
                return answer
            if do == "call":
                records: List[Record] = []
                try:
                    result = self._client._run(action["operation"], action["input"], action.get("attempt"),
                                               hook=records.append, max_wait_ms=action.get("max_wait_ms"))
                    event = _Run.called(result, None, records)
                except IProovError as error:
                    event = _Run.called(None, error, records)
            elif do == "sleep":
                time.sleep(max(0, action["until_ms"] - _now()) / 1000)
                event = '{"slept": true}'
            elif do in ("spool", "unspool"):
                event = cast(str, self._append(_Run.spool_line(action), do == "spool"))
            else:
                method, args = _Run.store_call(action)
                try:
                    event = _Run.stored(do, getattr(self._store, method)(*args))
                except Exception as exc:  # any store failure is the pump's to decide on
                    event = run.store_failed(method, exc)

    def _serve(self, request: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return self._pump(request)
        finally:
            if self._replay_due():
                try:
                    self.replay_spool()
                except Exception:
                    _log.exception("iproov journeys: replaying the spool failed; it is tried again later")

    def start(self, flow: str, user_id: str, journey_id: Optional[str] = None, *, assurance_type: Optional[str] = None,
              interactive: bool = False, wait_s: Optional[float] = None) -> Started:
        """A token for iProov's SDK: ``{journey_id, token, sdk_url, attempt, attempts_left}``
        (the same token again while the attempt is open, also for a reload that gives no
        ``journey_id``: the user's current journey of the flow is resumed), or ``{journey_id,
        passed, attempts_left, next, ...}`` for a journey that passed (``next`` ``done``).
        ``user_id`` comes from your application (its session or auth), never the browser.
        ``interactive``: a person waits (calls wait at most core's 2 s before a retry);
        ``wait_s``: how long to wait for another request of the same journey in progress.
        Raises ``LimitExceededError`` (attempts or token requests used up, with
        ``retry_after``), ``StoreUnavailableError``, ``InvalidStateError`` (another user's or
        an unknown journey, a request in progress) and the token request's errors."""
        fields = _start_fields(flow, user_id, journey_id, assurance_type)
        return cast(Started, self._serve(self._request("start", fields, interactive, wait_s)))

    def finish(self, journey_id: str, token: str, client: str, *, user_id: Optional[str] = None,
               interactive: bool = False, wait_s: Optional[float] = None) -> JourneyFinished:
        """Validates the token once across every process sharing the store: ``{journey_id,
        passed, attempts_left, next, attempt, state, reason?}`` (``next``: ``done``,
        ``start_attempt`` or ``exhausted``, then ``retry_after_ms``). A double submit gets the
        stored outcome (waiting up to ``wait_s`` for the first one's). With ``user_id`` (your
        session's user), another user's journey is an unknown one. Raises
        ``InvalidStateError`` (unknown journey or token, a validate in progress),
        ``StoreUnavailableError`` (``result``: the outcome, when iProov answered) and the
        validate's errors when it was never sent."""
        fields = _finish_fields(journey_id, token, client, user_id)
        return cast(JourneyFinished, self._serve(self._request("finish", fields, interactive, wait_s)))

    def exit(self, journey_id: str, token: str, event: str, client: str, *, feedback: Optional[str] = None,
             user_id: Optional[str] = None) -> JourneyFinished:
        """iProov's SDK ended the attempt without a capture (``event``: ``canceled``,
        ``error``, ``no_camera``, ``permission_denied``, ``unsupported``;
        ``feedback``: its code): the attempt ends ``exited`` with the event and ``client``
        kept, no validate is sent, and the next :meth:`start` gets a new token. A cancel uses
        the attempt; a device that cannot run the check does not (core's table). Answers as
        :meth:`finish`; raises ``InvalidInputError`` for an event the SDK does not send."""
        fields = _exit_fields(journey_id, token, event, client, feedback, user_id)
        return cast(JourneyFinished, self._serve(self._request("exit", fields, False, None)))

    def forget(self, user_id: str, *, at_iproov: bool = False) -> JourneyForgotten:
        """Erases one user's data (GDPR art. 17): with ``at_iproov``, the user at iProov first
        (the users API's delete: needs OAuth credentials in the config), then every journey,
        audit record and limit record of the user in the store, in one transaction. Gives
        ``{"journeys": n, "audit_records": m, "at_iproov": "deleted" | "absent" |
        "not_asked"}``. Afterwards the user's journey ids answer as unknown. Raises
        ``InvalidInputError`` (``at_iproov`` without OAuth credentials), the users API's errors
        (nothing erased then) and ``StoreUnavailableError``."""
        return cast(JourneyForgotten, self._serve({"action": "forget", "user_id": user_id, "at_iproov": at_iproov}))

    def replay_spool(self, now_ms: Optional[int] = None) -> int:
        """Brings spooled outcomes and audit records into the store: the entries core says are
        due at ``now_ms`` (Unix ms, default now; an entry is due once its writer is surely
        done with it, 13 s after it was written). Entries the store still refuses stay in the
        spool. Returns how many were replayed. Raises ``OSError`` when the spool file cannot
        be read or written."""
        self._replayed_ms = _now()
        taken = self._spool.take() if self._spool is not None else None
        if taken is None:
            return 0
        todo, keep = self._due(taken, now_ms)
        failed: List[Record] = []
        replayed = 0
        try:
            while todo:
                try:
                    replayed += self._pump({"action": "replay", "entry": todo[0]}).get("replayed") is True
                except IProovError:
                    failed.append(todo[0])
                todo.pop(0)
        finally:
            self._put_back(taken, keep, failed + todo)
        return replayed

    def _stored(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._store, method)(*args)
        except Exception as exc:  # any store failure: core's store_unavailable, the store's as cause
            raise self._store_error(method) from exc

    def history(self, user_id: str) -> List[JourneyHistory]:
        """The user's journeys as stored (no token) with their audit records, oldest first:
        ``[{"journey": {...}, "audit": [...]}]``. Raises ``StoreUnavailableError``
        (``store_operation`` ``journeys_of`` or ``audit_of``; the store's exception is its
        ``__cause__``) when the store fails."""
        return [
            {"journey": json.loads(_core.service_view(json.dumps(record))),
             "audit": cast(List[AuditRecord], self._stored("audit_of", record["id"]))}
            for record in self._stored("journeys_of", user_id)
        ]

    def delete_expired(self) -> int:
        """Deletes the journeys (and user records) past their retention (core's
        ``expires_at_ms``); returns how many journeys. Raises ``StoreUnavailableError``
        (``store_operation`` ``delete_expired``; the store's exception is its ``__cause__``)
        when the store fails."""
        return int(self._stored("delete_expired", _now()))


class AsyncJourneyService(_Service):
    """:class:`JourneyService` for asyncio over ``iproov_sansio.httpx.AsyncClient``: the same
    arguments, methods and errors, as coroutines. ``store``: an :class:`AsyncStore`
    (``AsyncPostgresStore``), or a blocking :class:`Store` whose calls then run in a worker
    thread (``asyncio.to_thread``). ``SQLiteStore``'s statements run on the event loop, and in
    a worker thread only while another connection holds the file (``SQLiteStore.call_nowait``);
    so do the spool's file operations (appends, a replay's take and put-back), in a worker
    thread only while another process holds the spool. The
    spool is replayed at the first request (``__init__`` cannot wait) and then as for
    :class:`JourneyService`; call :meth:`replay_spool` at start-up to do it sooner."""

    def __init__(self, client: Any, store: Union[AsyncStore, Store], *, policy: Optional[ServicePolicy] = None,
                 spool: SpoolOption = None) -> None:
        super().__init__(client, store, policy, spool)

    async def _store_call(self, method: str, args: Tuple[Any, ...]) -> Any:
        call: Callable[..., Any] = getattr(self._store, method)
        if inspect.iscoroutinefunction(call):
            return await call(*args)
        # SQLiteStore: its statements take well under a millisecond, less than a worker
        # thread's round trip and the GIL's hand-overs around it (under load those put tens of
        # ms on every request); only when another connection holds the file does the call
        # wait for it in a worker thread. Only SQLiteStore itself: a wrapper or a subclass
        # (metrics, a test's faults) has its methods called as they are.
        if type(self._store) is SQLiteStore:
            done, answer = self._store.call_nowait(method, args)
            if done:
                return answer
        return await asyncio.to_thread(call, *args)

    async def _pump(self, request: Dict[str, Any]) -> Dict[str, Any]:
        run = _Run(self, request)
        event = ""
        while True:
            action = run.next(event)
            do = action["do"]
            if do == "done":
                answer: Dict[str, Any] = action["answer"]
                return answer
            if do == "call":
                records: List[Record] = []
                try:
                    result = await self._client._run(action["operation"], action["input"], action.get("attempt"),
                                                     hook=records.append, max_wait_ms=action.get("max_wait_ms"))
                    event = _Run.called(result, None, records)
                except IProovError as error:
                    event = _Run.called(None, error, records)
            elif do == "sleep":
                await asyncio.sleep(max(0, action["until_ms"] - _now()) / 1000)
                event = '{"slept": true}'
            elif do in ("spool", "unspool"):
                # As SQLiteStore's statements: on the loop (one append and fsync), in a worker
                # thread only while a replayer holds the file.
                line = _Run.spool_line(action)
                event = self._append(line, do == "spool", wait=False) or \
                    cast(str, await asyncio.to_thread(self._append, line, do == "spool"))
            else:
                method, args = _Run.store_call(action)
                try:
                    event = _Run.stored(do, await self._store_call(method, args))
                except Exception as exc:  # any store failure is the pump's to decide on
                    event = run.store_failed(method, exc)

    async def _serve(self, request: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return await self._pump(request)
        finally:
            if self._replay_due():
                try:
                    await self.replay_spool()
                except Exception:
                    _log.exception("iproov journeys: replaying the spool failed; it is tried again later")

    async def start(self, flow: str, user_id: str, journey_id: Optional[str] = None, *,
                    assurance_type: Optional[str] = None, interactive: bool = False,
                    wait_s: Optional[float] = None) -> Started:
        """As :meth:`JourneyService.start`."""
        fields = _start_fields(flow, user_id, journey_id, assurance_type)
        return cast(Started, await self._serve(self._request("start", fields, interactive, wait_s)))

    async def finish(self, journey_id: str, token: str, client: str, *, user_id: Optional[str] = None,
                     interactive: bool = False, wait_s: Optional[float] = None) -> JourneyFinished:
        """As :meth:`JourneyService.finish`."""
        fields = _finish_fields(journey_id, token, client, user_id)
        return cast(JourneyFinished, await self._serve(self._request("finish", fields, interactive, wait_s)))

    async def exit(self, journey_id: str, token: str, event: str, client: str, *, feedback: Optional[str] = None,
                   user_id: Optional[str] = None) -> JourneyFinished:
        """As :meth:`JourneyService.exit`."""
        fields = _exit_fields(journey_id, token, event, client, feedback, user_id)
        return cast(JourneyFinished, await self._serve(self._request("exit", fields, False, None)))

    async def forget(self, user_id: str, *, at_iproov: bool = False) -> JourneyForgotten:
        """As :meth:`JourneyService.forget`."""
        return cast(JourneyForgotten, await self._serve({"action": "forget", "user_id": user_id, "at_iproov": at_iproov}))

    async def replay_spool(self, now_ms: Optional[int] = None) -> int:
        """As :meth:`JourneyService.replay_spool`."""
        self._replayed_ms = _now()
        # As SQLiteStore's statements: the spool's file operations on the loop, in a worker
        # thread only to wait for another process's lock on the file.
        spool = self._spool
        taken = spool.take(wait=False) if spool is not None else None
        if spool is None or taken is None:
            return 0
        if taken.waiting is not None:
            try:
                await asyncio.to_thread(spool.wait, taken)
            except BaseException:
                spool.release(taken, False)
                raise
        todo, keep = self._due(taken, now_ms)
        failed: List[Record] = []
        replayed = 0
        try:
            while todo:
                try:
                    replayed += (await self._pump({"action": "replay", "entry": todo[0]})).get("replayed") is True
                except IProovError:
                    failed.append(todo[0])
                todo.pop(0)
        finally:
            if not self._put_back(taken, keep, failed + todo, wait=False):
                await asyncio.to_thread(self._put_back, taken, keep, failed + todo)
        return replayed

    async def _stored(self, method: str, *args: Any) -> Any:
        try:
            return await self._store_call(method, args)
        except Exception as exc:  # any store failure: core's store_unavailable, the store's as cause
            raise self._store_error(method) from exc

    async def history(self, user_id: str) -> List[JourneyHistory]:
        """As :meth:`JourneyService.history`."""
        records: List[Record] = await self._stored("journeys_of", user_id)
        return [
            {"journey": json.loads(_core.service_view(json.dumps(r))),
             "audit": cast(List[AuditRecord], await self._stored("audit_of", r["id"]))}
            for r in records
        ]

    async def delete_expired(self) -> int:
        """As :meth:`JourneyService.delete_expired`."""
        return int(await self._stored("delete_expired", _now()))
