"""A typed usage sample: ``mypy --strict`` must accept it (scripts/python.sh runs it). It is
type-checked, not run (it would need a live service)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Tuple

import httpx

import iproov_sansio as ip
from iproov_sansio.httpx import AsyncClient, Client
from iproov_sansio.journeys import (
    AsyncJourneyService,
    AuditRecord,
    JourneyFinished,
    JourneyHistory,
    JourneyService,
    ResolvedServicePolicy,
)
from iproov_sansio.requests import Client as RequestsClient
from iproov_sansio.stores import AsyncPostgresStore, PostgresStore, SQLiteStore


def onboarding(client: Client, user_id: str, browser: str) -> Optional[bool]:
    claim: ip.ClaimToken = client.enrol_token(user_id=user_id, resource="Onboarding")
    token: str = claim.token
    pod: Optional[str] = claim.pod
    fallback: Optional[Tuple[ip.Fallback, ...]] = claim.fallback
    try:
        result: ip.ValidateResult = client.enrol_validate(user_id=user_id, token=token, client=browser)
    except ip.OutcomeUnknownError as error:
        code: str = error.code
        return None
    except ip.ApiError as error:
        status: Optional[int] = error.status
        description: Optional[str] = error.description
        return False
    canonical: Dict[str, Any] = result.to_dict()
    quality: Optional[ip.FrameQuality] = result.return_frame_quality
    _ = (pod, fallback, canonical, quality)
    return result.passed


def management(client: RequestsClient, user_id: str) -> str:
    user: ip.User = client.get_user(user_id=user_id)
    client.update_user(user_id=user_id, name="Jane")
    token: ip.AccessToken = client.access_token(scope=["user-read"])
    seconds: Optional[int] = token.expires_in
    _ = seconds
    return user.status


async def health(region: str) -> bool:
    async with AsyncClient(region, api_key="k", secret="s", timeout=5.0, http_client=httpx.AsyncClient()) as client:
        availability: ip.Availability = await client.availability()
        return availability.up


def sans_io(config: ip.Config) -> ip.ClaimToken:
    request: ip.Request = ip.build_verify_token(config, user_id="u-1", resource="Login")
    method: str = request.method
    headers: Tuple[Tuple[str, str], ...] = request.headers
    body: bytes = request.body
    redacted: Dict[str, Any] = request.redacted()
    _ = (method, headers, body, redacted)
    return ip.parse_verify_token(config, 200, {"content-type": "application/json"}, b'{"token": "t"}')


def flows(now: int) -> List[str]:
    policy = ip.RetryPolicy(max_retries=1)
    advice: ip.Advice = policy.advise("availability", 1, now=now, jitter=0.5, status=503, headers=[])
    delay: Optional[int] = advice.delay_ms
    manager = ip.TokenManager(scope=["user-read"])
    status: ip.TokenStatus = manager.status(now)
    journey = ip.Journey(ip.random_user_id(), "verify", max_attempts=3)
    nxt: ip.Next = journey.next(now)
    record: Dict[str, Any] = ip.audit_record("availability", now, result={"up": True})
    warnings: List[ip.UserIdWarning] = ip.lint_user_id("jane@example.com")
    region: ip.Region = ip.Region.parse("eu")
    _ = (delay, status, record, region)
    return [nxt.next] + [w.code for w in warnings]


def errors(error: ip.IProovError) -> Optional[float]:
    if isinstance(error, ip.RateLimitedError):
        return error.retry_after
    if isinstance(error, ip.InvalidKeyError):
        region: Optional[str] = error.region
        _ = region
    if isinstance(error, ip.InvalidInputError):
        field: Optional[str] = error.field
        _ = field
    return None


def journeys(client: Client, user_id: str) -> Optional[bool]:
    service = JourneyService(client, SQLiteStore("journeys.sqlite3"), policy={"max_attempts": 3})
    limits: ResolvedServicePolicy = service.policy
    attempts: int = limits["max_attempts"]
    _ = (attempts, JourneyService(client, PostgresStore("dbname=x", spool_path="spool.jsonl")))
    try:
        started = service.start("verify", user_id, interactive=True, wait_s=30)
        if "token" not in started:  # a journey that passed already
            return started["passed"]
        outcome: Optional[JourneyFinished] = service.finish(started["journey_id"], started["token"], "ua", user_id=user_id)
    except ip.LimitExceededError as error:
        limit: Optional[str] = error.limit
        wait: Optional[float] = error.retry_after
        _ = (limit, wait)
        return None
    except ip.StoreUnavailableError as error:
        where: Optional[str] = error.store_operation
        _ = (where, error.journey_id)
        outcome = error.result
    replayed: int = service.replay_spool()
    history: List[JourneyHistory] = service.history(user_id)
    records: List[AuditRecord] = history[0]["audit"] if history else []
    _ = (replayed, records, service.delete_expired(), service.forget(user_id)["journeys"])
    return None if outcome is None else outcome["passed"]


async def async_journeys(client: AsyncClient, conninfo: str, user_id: str) -> str:
    store = await AsyncPostgresStore.open(conninfo, spool_path="spool.jsonl")
    service = AsyncJourneyService(client, store, spool=False)
    started = await service.start("enrol", user_id)
    await service.replay_spool()
    await store.close()
    return started["token"] if "token" in started else started["next"]


def config() -> ip.Config:
    from_env: ip.Config = ip.config_from_env(region="eu")
    explicit = ip.Config("eu", api_key="k", secret="s", oauth_username="u", oauth_password="p")
    _ = explicit
    return from_env.with_access_token("at")


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(health("eu"))
