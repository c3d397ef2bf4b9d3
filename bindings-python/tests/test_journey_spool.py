"""The journey service's spool as a file: where it is, running without one, a replayer that
died mid-replay, a line a crash cut short, and appends racing replays (no line lost)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import List

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import LATER_MS, Flaky, enrolled, make_store, postgres_conninfo, spool_lines

import iproov_sansio as ip
from iproov_sansio import _core
from iproov_sansio._spool import Spool
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import PostgresStore, SQLiteStore


def _now() -> int:
    return int(time.time() * 1000)


def _lost_outcome(svc: JourneyService, flaky: Flaky, emulator: Emulator) -> str:
    """A pass iProov gave that the store did not take: the journey id."""
    started = svc.start("verify", enrolled(emulator))
    emulator.complete(started["token"], passed=True)
    flaky.down_at = flaky.calls + 3  # the outcome's write: after the read and `validating`
    with pytest.raises(ip.StoreUnavailableError) as caught:
        svc.finish(started["journey_id"], started["token"], "pytest")
    assert caught.value.result is not None and caught.value.result["passed"] is True
    flaky.up()
    return str(started["journey_id"])


def test_the_spool_sits_beside_sqlite_and_is_named_for_postgres(emulator: Emulator, tmp_path: Path) -> None:
    with Client(base_url=emulator.base_url(), **EU) as http:
        sqlite = SQLiteStore(tmp_path / "j.sqlite3")
        assert JourneyService(http, sqlite).spool_path == tmp_path / "j.sqlite3.spool.jsonl"
        assert JourneyService(http, sqlite, spool=tmp_path / "elsewhere.jsonl").spool_path == tmp_path / "elsewhere.jsonl"
        postgres = PostgresStore(postgres_conninfo())
        with pytest.raises(ip.InvalidInputError) as refused:
            JourneyService(http, postgres)
        assert refused.value.field == "spool"
        assert JourneyService(http, postgres, spool=False).spool_path is None
        assert JourneyService(http, PostgresStore(postgres_conninfo(), spool_path=tmp_path / "pg.jsonl")).spool_path \
            == tmp_path / "pg.jsonl"


def test_without_a_spool_the_outcome_lives_in_the_error(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "j.sqlite3")
    flaky = Flaky(store, [])
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, flaky, spool=False)
        _lost_outcome(svc, flaky, emulator)
    assert "no spool" in caplog.text
    assert not list(tmp_path.glob("*.jsonl"))


def test_a_replayer_that_died_mid_replay_leaves_its_entries_to_the_next(emulator: Emulator, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "j.sqlite3")
    flaky = Flaky(store, [])
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, flaky)
        journey_id = _lost_outcome(svc, flaky, emulator)
        # A replayer took the file (renamed it to its private name) and died: no lock holds it.
        orphan = store.spool_path.with_name(f"{store.spool_path.name}.{uuid.uuid4().hex}.replay")
        store.spool_path.rename(orphan)
        # And a line a crash cut short in the live file.
        store.spool_path.write_text('{"id": "cut sho')
        assert svc.replay_spool(_now() + LATER_MS) == 1
        assert (store.get("journeys", journey_id) or {})["attempts"][0]["state"] == "passed"
        assert not orphan.exists()
        assert spool_lines(store.spool_path) == []


def test_appends_racing_replays_lose_no_line(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    stop = threading.Event()
    written: List[str] = []
    lock = threading.Lock()

    def writer() -> None:
        for _ in range(1000):
            entry = {"id": uuid.uuid4().hex, "journey_id": "j", "audit": [], "at_ms": _now()}
            spool.append([json.dumps(entry)], durable=False)
            with lock:
                written.append(entry["id"])

    takes: List[bool] = []  # per take: whether a writer was still appending

    def replayer() -> None:
        # What a replay does with young entries: takes the file, keeps them, appends them back.
        while not stop.is_set():
            taken = spool.take()
            if taken is None:
                continue
            with lock:
                takes.append(len(written) < 4000)
            keep = json.loads(_core.spool_due(taken.text, _now()))["keep"]
            spool.append(keep, durable=False)
            spool.release(taken, True)

    replayers = [threading.Thread(target=replayer) for _ in range(2)]
    writers = [threading.Thread(target=writer) for _ in range(4)]
    for t in replayers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in replayers:
        t.join()
    found: List[str] = [e["id"] for e in spool_lines(spool.path)]
    assert len(written) == 4000
    # The race itself: the file was taken while lines were still being appended.
    assert sum(takes) > 1, f"the file was taken {sum(takes)} times while lines were appended"
    assert sorted(found) == sorted(written), "every appended line is in the spool once"
    assert not list(tmp_path.glob("*.replay"))


def test_a_postgres_service_replays_into_postgres(emulator: Emulator, tmp_path: Path) -> None:
    store, _ = make_store("postgres", tmp_path)
    flaky = Flaky(store, [])
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, flaky, spool=tmp_path / "spool.jsonl")
        journey_id = _lost_outcome(svc, flaky, emulator)
        assert [e["journey_id"] for e in spool_lines(tmp_path / "spool.jsonl") if "outcome" in e] == [journey_id]
        # A new service (a restart) replays it when due.
        later = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        assert later.replay_spool(_now() + LATER_MS) == 1
        assert (store.get("journeys", journey_id) or {})["attempts"][0]["state"] == "passed"


def test_an_append_that_must_not_wait_writes_nothing_while_a_replayer_holds_the_file(tmp_path: Path) -> None:
    """``Spool.append(wait=False)`` (the async service's first try, on its event loop): the
    file locked by a replayer (which opened it before its rename) gives ``False`` and no
    line; once released, the same append writes."""
    import fcntl
    import os

    spool = Spool(tmp_path / "spool.jsonl")
    assert spool.append(['{"a": 1}'], durable=True, wait=False) is True
    fd = os.open(spool.path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert spool.append(['{"b": 2}'], durable=True, wait=False) is False
        assert spool.path.read_text() == '{"a": 1}\n'
    finally:
        os.close(fd)
    assert spool.append(['{"b": 2}'], durable=True, wait=False) is True
    assert spool.path.read_text() == '{"a": 1}\n{"b": 2}\n'


def test_a_take_that_must_not_wait_leaves_a_file_an_append_still_writes_to_waiting(tmp_path: Path) -> None:
    """``Spool.take(wait=False)`` (the async service's replay, on its event loop): when an
    append that opened the file before the rename still holds it, the renamed file is left in
    ``waiting``, unread, and ``Spool.wait`` reads it once the append is done; a replay that
    never waited leaves it for the next replayer, nothing lost. Without an append, nothing
    waits."""
    import fcntl
    import os

    spool = Spool(tmp_path / "spool.jsonl")
    assert spool.append(['{"a": 1}'], durable=True)
    fd = os.open(spool.path, os.O_WRONLY | os.O_APPEND)  # an append in flight: shared lock held
    fcntl.flock(fd, fcntl.LOCK_SH)
    taken = spool.take(wait=False)
    assert taken is not None and taken.waiting is not None and taken.files == [] and taken.text == ""
    os.write(fd, b'{"b": 2}\n')
    ended = threading.Event()
    waiter = threading.Thread(target=lambda: (spool.wait(taken), ended.set()))
    waiter.start()
    assert not ended.wait(0.2), "Spool.wait returned while the append held the file"
    os.close(fd)  # the append ends
    waiter.join(timeout=30)
    assert not waiter.is_alive() and ended.is_set()
    assert taken.waiting is None and taken.text == '{"a": 1}\n{"b": 2}\n'
    spool.release(taken, True)
    assert spool.take(wait=False) is None

    # Taken but never waited for: released, the file stays for the next replayer.
    assert spool.append(['{"c": 3}'], durable=True)
    fd = os.open(spool.path, os.O_WRONLY | os.O_APPEND)
    fcntl.flock(fd, fcntl.LOCK_SH)
    left = spool.take(wait=False)
    assert left is not None and left.waiting is not None
    spool.release(left, True)
    os.close(fd)
    again = spool.take(wait=False)
    assert again is not None and again.waiting is None and again.text == '{"c": 3}\n'
    spool.release(again, True)
    assert spool.take() is None
