"""The guard against tests that would call iProov itself: a shell (or CI job) that still holds
``IPROOV_REGION`` or an ``IPROOV_BASE_URL`` on iProov's hosts points every client that reads
``IPROOV_*`` (``iproov_sansio``'s ``Client()``, your own settings) at a real region, with
whatever credentials the same environment holds. The Node helper
(``iproov-sansio/testing``) applies the same rule."""

from __future__ import annotations

import os
import urllib.parse
from typing import Mapping, Optional

#: iProov's own domains: ``{region}.rp.secure.iproov.me`` and the rest of its service.
IPROOV_DOMAINS = ("iproov.me", "iproov.com")


def real_iproov_target(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """Why ``environ`` (default ``os.environ``) points at a real iProov region, or ``None``:
    ``IPROOV_REGION`` set and not empty (the clients read a region as iProov's host for it;
    an empty one counts as unset), or ``IPROOV_BASE_URL`` on a host of ``iproov.me`` or
    ``iproov.com``. Any other base URL (the emulator's, your own stand-in) is not."""
    env = os.environ if environ is None else environ
    base_url = env.get("IPROOV_BASE_URL", "").strip()
    if base_url:
        host = urllib.parse.urlsplit(base_url if "://" in base_url else f"//{base_url}").hostname or ""
        host = host.rstrip(".").lower()
        if any(host == d or host.endswith(f".{d}") for d in IPROOV_DOMAINS):
            return f"IPROOV_BASE_URL={base_url} is iProov's own service"
    region = env.get("IPROOV_REGION", "").strip()
    if region:
        return f"IPROOV_REGION={region} points iProov's clients at its real {region} region"
    return None


def refusal(test: str, reason: str) -> str:
    """The message a refused test fails with."""
    return (
        f"iproov-emulator refused to run {test}: {reason}, so a client that reads IPROOV_* would "
        "call iProov itself, with whatever credentials this environment holds. Unset IPROOV_REGION "
        "and IPROOV_BASE_URL for your tests (or set them for the emulator: "
        "monkeypatch.setenv for each item of iproov_emulator.environ()). A test meant to call iProov "
        "opts in with @pytest.mark.iproov_live; pytest --iproov-allow-live lets a whole run do so."
    )
