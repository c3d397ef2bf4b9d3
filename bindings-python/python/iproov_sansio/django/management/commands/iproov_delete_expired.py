"""``manage.py iproov_delete_expired``: drops the journeys (with their audit records) and the
users' limit records past their retention (core's ``expires_at_ms``). Run it daily."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...views import journey_service


class Command(BaseCommand):
    help = "Deletes the iProov journeys and user records past their retention."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"deleted {journey_service().delete_expired()} expired journey(s)")
