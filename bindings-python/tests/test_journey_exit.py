"""iProov's SDK ending an attempt without a capture (issue 24 item 4): the journey service
ends the attempt with the SDK's event and the browser's User-Agent kept, sends no validate,
and gives a new token next; a cancel uses the attempt, a device that cannot run the check
does not (core's table). Through the service and through the web routes, against the
emulator on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import enrolled

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import journey_routes
from starlette.testclient import TestClient


def test_an_exit_ends_the_attempt_and_the_next_start_gets_a_new_token(emulator: Emulator, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "j.sqlite3")
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store)
        user = enrolled(emulator)
        first = svc.start("verify", user)
        out = svc.exit(first["journey_id"], first["token"], "canceled", "Mozilla/5.0 (X11)", feedback="user_canceled")
        assert (out["state"], out["attempts_left"], out["next"]) == ("exited", 2, "start_attempt")
        [journey] = svc.history(user)
        attempt = journey["journey"]["attempts"][0]
        assert attempt["exit"] == {"event": "canceled", "feedback": "user_canceled"}
        assert attempt["client"] == "Mozilla/5.0 (X11)"
        second = svc.start("verify", user)
        assert second["token"] != first["token"] and second["attempt"] == 2
        # A device that cannot run the check does not use an attempt.
        assert svc.exit(second["journey_id"], second["token"], "no_camera", "UA")["attempts_left"] == 2
        with pytest.raises(ip.InvalidInputError) as refused:
            third = svc.start("verify", user)
            svc.exit(third["journey_id"], third["token"], "closed_tab", "UA")
        assert refused.value.field == "event"
    assert emulator.count("/claim/verify/validate") == 0
    assert emulator.count("/claim/verify/token") == 3


def test_the_exit_route_takes_the_event_and_the_user_agent(emulator: Emulator, tmp_path: Path) -> None:
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, SQLiteStore(tmp_path / "j.sqlite3"))
        user = enrolled(emulator)
        app = journey_routes(svc, resolve_user=lambda request: user)
        headers = {"Origin": "http://testserver", "Content-Type": "application/json", "User-Agent": "Browser/9"}
        with TestClient(app) as web:
            started = web.post("/token", json={"flow": "verify"}, headers=headers).json()
            ended = web.post("/exit", headers=headers, json={"journey_id": started["journey_id"],
                                                             "token": started["token"], "event": "canceled"})
            assert ended.status_code == 200 and ended.json()["state"] == "exited"
            bad = web.post("/exit", headers=headers, json={"journey_id": started["journey_id"],
                                                           "token": started["token"], "event": 7})
            assert bad.status_code == 400
        [journey] = svc.history(user)
        assert journey["journey"]["attempts"][0]["client"] == "Browser/9"
