"""The demo's Python host: the journey of demo/journey.mjs, in Python, over
``iproov_sansio.httpx.Client``. Every decision (requests, results, errors, attempts, audit
records) is the core's: this file only calls the client, prints what happened and plays the
user's phone when the target is the emulator.

    target/py-venv/bin/python demo/journey.py      (scripts/demo sets the IPROOV_* variables)

Settings: IPROOV_REGION | IPROOV_BASE_URL, IPROOV_API_KEY, IPROOV_SECRET, IPROOV_OAUTH_USERNAME,
IPROOV_OAUTH_PASSWORD (read by the client itself); IPROOV_DEMO_EMULATOR (the emulator's URL:
set only when the target is the emulator, whose control API plays the phone);
IPROOV_DEMO_WRONG_BASE_URL (where "the wrong region" is, on the emulator); IPROOV_DEMO_DIR.
The client's audit hook stores core's audit records in $IPROOV_DEMO_DIR/audit.sqlite3.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Any, Dict, List, Optional

import httpx

import iproov_sansio as ip
from iproov_sansio.httpx import Client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit  # noqa: E402  (demo/audit.py: the SQLite store)

RESOURCE = "iProov demo"
BROWSER = "Mozilla/5.0 (iProov demo)"


class NeedsPhone(Exception):
    """Stops a journey where a real user's phone must do the capture."""


def setting(name: str) -> Optional[str]:
    return os.environ.get(name) or None


def now_ms() -> int:
    return int(time.time() * 1000)


def short(token: str) -> str:
    return f"{token[:8]}…{token[-4:]}" if len(token) > 16 else token


class Demo:
    def __init__(self) -> None:
        self.emulator = setting("IPROOV_DEMO_EMULATOR")
        self.config = ip.config_from_env()  # the IPROOV_* variables, as the client reads them
        self.db = audit.open_db()
        audit.forget(self.db, "python")
        self.http = httpx.Client(timeout=10.0)  # one connection pool for every client below
        # audit=: the client hands core's audit record of every request it sends to the hook.
        self.client = Client(config=self.config, http_client=self.http, audit=self.store)
        self.user_id = ip.random_user_id()
        self.records = 0
        self.n = 0

    def store(self, record: Dict[str, Any]) -> None:
        audit.store(self.db, "python", record)
        self.records += 1

    # ---- transcript -----------------------------------------------------------------------------

    def step(self, text: str) -> None:
        self.n += 1
        print(f"\n{self.n:2d}. {text}")

    @staticmethod
    def say(text: str) -> None:
        print(f"    {text}")

    def show_request(self, request: ip.Request) -> None:
        # Core's redacted view of the request: secrets show as [REDACTED].
        view = request.redacted()
        self.say(f"→ {view['method']} {view['url']}")
        for name, value in view["headers"]:
            self.say(f"    {name}: {value}")
        if view.get("body"):
            self.say(f"    {view['body']}")

    def show_error(self, error: ip.IProovError) -> None:
        status = error.status if error.status is not None else "no status"
        self.say(f"← error {error.code} ({status}): {error}")

    def call(self, operation: str, view_config: Optional[ip.Config] = None, via: Optional[Client] = None, **input: Any) -> Any:
        """One client call: shows core's redacted view of its request (built from the same config
        and input), then sends it with the client (whose audit hook stores the record)."""
        self.show_request(ip.build(operation, view_config or self.config, input))
        return getattr(via or self.client, operation)(**input)

    def expect_error(self, operation: str, **kwargs: Any) -> ip.IProovError:
        try:
            self.call(operation, **kwargs)
        except ip.IProovError as error:
            self.show_error(error)
            return error
        raise AssertionError(f"{operation} was expected to fail")

    def phone(self, token: str, outcome: Dict[str, Any]) -> None:
        """The user's phone: the emulator's control API completes the capture, else a real user must."""
        what = "passes" if outcome["passed"] else f"fails ({outcome['reason']})"
        if not self.emulator:
            self.step("The user's phone completes the capture (iProov's SDK with this token)")
            self.say(f"a real user must now scan their face with the token {short(token)}: the demo cannot")
            self.say("play the phone against a real iProov service, so this journey stops here.")
            raise NeedsPhone()
        self.step(f"The user's phone completes the capture: it {what}")
        self.say(f"(done by the user's phone; here the emulator plays it: POST /__emulator/claims/{short(token)}/complete)")
        answer = self.http.post(f"{self.emulator}/__emulator/claims/{token}/complete", json=outcome)
        if answer.status_code != 200:
            raise RuntimeError(f"emulator: completing the claim gave {answer.status_code} {answer.text}")

    def attempts(self, flow: str, outcomes: List[Dict[str, Any]]) -> ip.Next:
        """A user's attempts at enrol or verify, as core's Journey tracks them: each attempt gets a
        new token, is validated once, and the journey says what comes next."""
        journey = ip.Journey(self.user_id, flow)
        most = journey.to_dict()["policy"]["max_attempts"]
        name = flow.capitalize()
        while True:
            nxt = journey.next(now_ms())
            if nxt.next in ("done", "exhausted"):
                return nxt
            if nxt.next != "start_attempt":
                raise RuntimeError(f"unexpected journey step {nxt.next}")
            attempt = nxt.attempt
            assert attempt is not None
            self.step(f"{name} token: {flow} attempt {attempt} of {most}{', a new token' if attempt > 1 else ''}")
            claim = self.call(f"{flow}_token", user_id=self.user_id, resource=RESOURCE)
            self.say(f"← token {short(claim.token)} (pod {claim.pod or 'none'})")
            journey.token_issued(claim.token, now_ms())

            self.phone(claim.token, outcomes[attempt - 1])

            self.step(f"{name} validate: once for this token")
            result = self.call(f"{flow}_validate", user_id=self.user_id, token=claim.token, client=BROWSER)
            shown = f" ({result.type}, {result.assurance_type})" if result.passed else f", reason {result.reason}"
            self.say(f"← passed: {'true' if result.passed else 'false'}{shown}")
            after = journey.validated(claim.token, result, now_ms())
            if after.next == "start_attempt":
                self.say(
                    f"journey: attempt {attempt} of {most} failed: {result.reason}"
                    f" — attempt {after.attempt} of {most} starts with a new token"
                )
            elif after.next == "done":
                self.say(f"journey: {'enrolled' if flow == 'enrol' else 'verified'} on attempt {attempt} of {most}")
            elif after.next == "exhausted":
                self.say(f"journey: all {after.attempts} attempts failed")

    # ---- the journey ------------------------------------------------------------------------------

    def run(self) -> None:
        config = self.config
        target = f"region {config.region} ({config.base_url})" if config.region else config.base_url
        print("=" * 100)
        title = f"Python {platform.python_version()} (httpx {httpx.__version__})"
        print(f"== {title}: iproov_sansio {ip.__version__} against {'the emulator, ' if self.emulator else ''}{target}")
        print("=" * 100)
        print(f"config (redacted by core): {config.redacted()}")
        print(f"user id: {self.user_id} (random_user_id: a UUID that identifies nobody)")

        try:
            self.attempts("enrol", [{"passed": True}])
            self.attempts("verify", [{"passed": False, "reason": "too_much_movement"}, {"passed": True}])

            self.step("OAuth access token (client credentials)")
            token = self.call("access_token")
            scope = " ".join(token.scope or ())
            self.say(f"← {token.token_type} token [never printed], expires in {token.expires_in} s, scope {scope}")
            # The users API authorizes with a Bearer token; core redacts it in the request view.
            users = config.with_access_token(token.access_token)

            self.step("Get user (the client's token manager fetched its own OAuth token and reuses it)")
            user = self.call("get_user", view_config=users, user_id=self.user_id)
            self.say(f"← user {user.user_id}: {user.status}")

            self.step("Suspend user")
            suspended = self.call("suspend_user", view_config=users, user_id=self.user_id)
            self.say(f"← user {suspended.user_id}: {suspended.status}")
            status = self.client.token_status()
            has = "true" if status.has_token else "false"
            self.say(f"token manager: has a token: {has}, used {status.uses} times (core reuses it up to 50 times)")

            self.step("Verify token for the suspended user: refused")
            self.expect_error("verify_token", user_id=self.user_id, resource=RESOURCE)
        except NeedsPhone:
            print("\n    (enrol validate, the verify attempts, the users API and the suspended-user refusal")
            print("     need the user enrolled by a real capture; the step below needs no phone)")

        wrong_base_url = setting("IPROOV_DEMO_WRONG_BASE_URL")
        if wrong_base_url:
            wrong = ip.config_from_env(base_url=wrong_base_url)
        else:
            wrong = ip.config_from_env(region="eu" if config.region == "us" else "us")
        self.step(f"The same key against the wrong region ({wrong.region or wrong.base_url})")
        other = Client(config=wrong, http_client=self.http, audit=self.store)
        self.expect_error("verify_token", view_config=wrong, via=other, user_id=self.user_id, resource=RESOURCE)
        print()
        self.http.close()
        self.db.close()
        print(f"    {self.records} audit records → {audit.db_path()} (stored by the client's audit hook)")


if __name__ == "__main__":
    Demo().run()
