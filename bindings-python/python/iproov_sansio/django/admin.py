"""A read-only admin of the journeys, their audit records and the users' limit records. A
journey is shown as core's view of it (no open token)."""

from __future__ import annotations

import datetime
import json
from typing import Any, Optional

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from .. import _core
from .models import AuditRecord, Journey, UserRecord


def _pretty(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


def _when(ms: Optional[int]) -> Optional[datetime.datetime]:
    return None if ms is None else datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """Viewable by whoever may view the model; never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AuditRecord
    fields = readonly_fields = ("seq", "operation", "outcome", "status", "at")
    extra = max_num = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def operation(self, obj: AuditRecord) -> Any:
        return obj.record.get("operation")

    def outcome(self, obj: AuditRecord) -> Any:
        return obj.record.get("outcome")

    def status(self, obj: AuditRecord) -> Any:
        return obj.record.get("status")

    def at(self, obj: AuditRecord) -> Any:
        return obj.record.get("at")


@admin.register(Journey)
class JourneyAdmin(ReadOnly):
    list_display = ("id", "user_id", "flow", "state", "attempts", "updated")
    search_fields = ("=id", "=user_id")
    fields = readonly_fields = ("id", "user_id", "flow", "state", "attempts", "updated", "expires", "journey")
    inlines = [AuditInline]

    def flow(self, obj: Journey) -> Any:
        return obj.record.get("flow")

    def state(self, obj: Journey) -> Any:
        attempts = obj.record.get("attempts") or [{}]
        return attempts[-1].get("state", "")

    def attempts(self, obj: Journey) -> int:
        return len(obj.record.get("attempts") or [])

    def updated(self, obj: Journey) -> Optional[datetime.datetime]:
        return _when(obj.record.get("updated_at_ms"))

    def expires(self, obj: Journey) -> Optional[datetime.datetime]:
        return _when(obj.expires_at_ms)

    @admin.display(description="journey (core's view: no open token)")
    def journey(self, obj: Journey) -> str:
        return _pretty(json.loads(_core.service_view(json.dumps(obj.record))))


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnly):
    list_display = ("seq", "journey_id", "operation", "outcome", "status", "at")
    search_fields = ("=journey__id",)
    fields = readonly_fields = ("seq", "journey_id", "audit_record")

    def operation(self, obj: AuditRecord) -> Any:
        return obj.record.get("operation")

    def outcome(self, obj: AuditRecord) -> Any:
        return obj.record.get("outcome")

    def status(self, obj: AuditRecord) -> Any:
        return obj.record.get("status")

    def at(self, obj: AuditRecord) -> Any:
        return obj.record.get("at")

    def audit_record(self, obj: AuditRecord) -> str:
        return _pretty(obj.record)


@admin.register(UserRecord)
class UserRecordAdmin(ReadOnly):
    list_display = ("id", "expires")
    search_fields = ("=id",)
    fields = readonly_fields = ("id", "expires", "limits")

    def expires(self, obj: UserRecord) -> Optional[datetime.datetime]:
        return _when(obj.expires_at_ms)

    def limits(self, obj: UserRecord) -> str:
        return _pretty(obj.record)
