"""Journeys that are stored, not just driven: :class:`JourneyService` runs core's journey
service (``iproov_core::service``) over a client and a :class:`Store`. Core decides every
transition (attempts, expiry, what is kept, validate once); the service only reads, writes
with compare-and-set, and calls iProov through the client.

Validate is sent once across every process sharing the store: the attempt is written as
``validating`` (compare-and-set on the record's version) before the request leaves, so a
second process, or a double-submitted request, gets the stored outcome or an
``InvalidStateError`` ("in progress") and never sends a second validate. A process that dies
between sending and writing the answer leaves the attempt ``validating``; after
``stale_validate_ms`` core settles it as outcome unknown and offers a new attempt.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Dict, List, Mapping, Optional, Protocol

from . import _core
from ._errors import IProovError, InvalidStateError

__all__ = ["JourneyService", "Store"]

#: How often a step is run again after another process changed the journey in between.
_TRIES = 8


class Store(Protocol):
    """Where journeys live. Every method is one statement against the store: no logic.

    A record is core's JSON (a dict) with ``id``, ``user_id``, ``version`` and
    ``expires_at_ms`` among its fields; a store keeps it whole and may index those four.
    """

    def get(self, journey_id: str) -> Optional[Dict[str, Any]]:
        """The record, or ``None``."""

    def insert(self, record: Dict[str, Any]) -> bool:
        """Stores a new record; ``False`` when its id exists."""

    def update(self, record: Dict[str, Any], expected_version: int) -> bool:
        """Replaces the record if the stored one has ``expected_version``; ``False`` otherwise."""

    def append_audit(self, journey_id: str, records: List[Dict[str, Any]]) -> None:
        """Appends audit records to the journey's."""

    def journeys_of(self, user_id: str) -> List[Dict[str, Any]]:
        """The user's records, oldest first."""

    def audit_of(self, journey_id: str) -> List[Dict[str, Any]]:
        """The journey's audit records, in order."""

    def delete_expired(self, now_ms: int) -> int:
        """Deletes the journeys (and their audit records) with ``expires_at_ms <= now_ms``."""


def _now() -> int:
    return int(time.time() * 1000)


class JourneyService:
    """A user's enrol or verify journey over a blocking client (``iproov_sansio.httpx.Client``
    or ``iproov_sansio.requests.Client``) and a :class:`Store` (``SQLiteStore`` by default
    path, ``PostgresStore`` for many instances).

    ``policy`` is core's service policy: ``max_attempts`` (3), ``token_ttl_ms`` (120000),
    ``stale_validate_ms`` (90000), ``retention_ms`` (30 days), ``resource``. Raises
    ``InvalidInputError`` at once for an unusable policy.
    """

    def __init__(self, client: Any, store: Store, *, policy: Optional[Mapping[str, Any]] = None) -> None:
        self._client = client
        self._store = store
        self._policy: Dict[str, Any] = _core.service_policy(dict(policy or {}))

    @property
    def store(self) -> Store:
        """The store the service reads and writes."""
        return self._store

    def _step(self, action: str, stored: Optional[Dict[str, Any]], input: Mapping[str, Any]) -> Dict[str, Any]:
        new_id = _core.random_user_id(os.urandom(16))
        out: Dict[str, Any] = _core.service_step(
            self._client.config, self._policy, action, stored, dict(input), new_id, _now()
        )
        return out

    def _write(self, step: Mapping[str, Any]) -> bool:
        write = step.get("write")
        if write == "insert":
            return self._store.insert(step["record"])
        if write == "update":
            return self._store.update(step["record"], int(step["expected_version"]))
        return True

    def _call(self, journey_id: str, operation: str, input: Dict[str, Any], attempt: Optional[int]) -> Dict[str, Any]:
        """The call through the client (core's driver); its audit records go to the journey."""
        records: List[Dict[str, Any]] = []
        lock = threading.Lock()

        def keep(record: Dict[str, Any]) -> None:
            with lock:
                records.append(record)

        try:
            result = self._client._run(operation, input, attempt, hook=keep)
            outcome: Dict[str, Any] = {"result": result.to_dict()}
        except IProovError as error:
            outcome = {"error": error.to_dict(), "raise": error}
        self._store.append_audit(journey_id, records)
        return outcome

    def start(self, flow: str, user_id: str, journey_id: Optional[str] = None, *, assurance_type: Optional[str] = None) -> Dict[str, Any]:
        """A token for iProov's SDK: ``{journey_id, token, sdk_url, attempt, attempts_left}``
        (the same token again while the attempt is open), or ``{passed, next, ...}`` when the
        journey is over (``next``: ``done`` or ``exhausted``). ``user_id`` comes from your
        application (its session or auth), never from the browser. Raises core's errors
        (``InvalidStateError`` for another user's or an unknown journey, or a validate in
        progress) and the token request's."""
        request: Dict[str, Any] = {"flow": flow, "user_id": user_id}
        if journey_id is not None:
            request["journey_id"] = journey_id
        if assurance_type is not None:
            request["assurance_type"] = assurance_type
        for _ in range(_TRIES):
            stored = self._store.get(journey_id) if journey_id is not None else None
            step = self._step("start", stored, request)
            if not self._write(step):
                continue
            if "respond" in step:
                return dict(step["respond"])
            record = step["record"]
            attempt = len(record["attempts"]) + 1
            outcome = self._call(record["id"], step["call"]["operation"], step["call"]["input"], attempt)
            if "raise" in outcome:
                raise outcome["raise"]
            issued = self._step("token_issued", record, outcome)
            if self._write(issued):
                return dict(issued["respond"])
        raise InvalidStateError({"code": "invalid_state", "kind": "invalid_state",
                                 "message": "the journey kept changing under this request; try again"})

    def finish(self, journey_id: str, token: str, client: str, *, user_id: Optional[str] = None) -> Dict[str, Any]:
        """Validates the token once, across every process sharing the store:
        ``{journey_id, passed, reason?, attempt, state, attempts_left, next}`` (``next``:
        ``done``, ``start_attempt`` or ``exhausted``). A double-submitted request gets the
        stored outcome. Raises ``InvalidStateError`` while another request validates the
        token, and core's errors for an unknown journey or token. With ``user_id`` (the user
        your session says is asking), another user's journey is an unknown journey."""
        request: Dict[str, Any] = {"token": token, "client": client}
        if user_id is not None:
            request["user_id"] = user_id
        for _ in range(_TRIES):
            step = self._step("finish", self._store.get(journey_id), request)
            if not self._write(step):
                continue
            if "respond" in step:
                return dict(step["respond"])
            record = step["record"]
            call = step["call"]
            attempt = len(record["attempts"])
            outcome = self._call(journey_id, call["operation"], call["input"], attempt)
            outcome.pop("raise", None)
            done = self._step("validated", record, {"token": token, **outcome})
            if self._write(done):
                return dict(done["respond"])
            # Someone settled the attempt meanwhile (it looked abandoned): read what is stored.
        raise InvalidStateError({"code": "invalid_state", "kind": "invalid_state",
                                 "message": "the journey kept changing under this request; try again"})

    def history(self, user_id: str) -> List[Dict[str, Any]]:
        """The user's journeys as stored (no token) with their audit records, oldest first:
        ``[{"journey": {...}, "audit": [...]}]``."""
        return [
            {"journey": self._step("view", record, {})["record"], "audit": self._store.audit_of(record["id"])}
            for record in self._store.journeys_of(user_id)
        ]

    def delete_expired(self) -> int:
        """Deletes the journeys past their retention (core's ``expires_at_ms``)."""
        return self._store.delete_expired(_now())
