"""Core's tables as Django models, for the admin and your queries: read them, never write them
(the journey service writes them with core's statements). ``managed = False``: the tables are
core's (this app's migrations make them with core's statements); a ``record`` is core's JSON,
kept whole, beside the columns that look it up."""

from __future__ import annotations

from django.db import models


class Journey(models.Model):
    """A user's enrol or verify journey (its attempts, their states and results, no image)."""

    id: models.TextField[str, str] = models.TextField(primary_key=True)
    user_id: models.TextField[str, str] = models.TextField(db_index=True)
    version: models.BigIntegerField[int, int] = models.BigIntegerField()
    expires_at_ms: models.BigIntegerField[int, int] = models.BigIntegerField()
    record = models.JSONField()

    class Meta:
        managed = False
        db_table = "iproov_journeys"
        verbose_name = "journey"

    def __str__(self) -> str:
        return str(self.id)


class AuditRecord(models.Model):
    """One request to iProov for a journey, as core recorded it (no credential)."""

    seq: models.BigAutoField[int, int] = models.BigAutoField(primary_key=True)
    journey: models.ForeignKey[Journey, Journey] = models.ForeignKey(Journey, models.DO_NOTHING, db_column="journey_id", db_constraint=False,
                                related_name="audit_records")
    record = models.JSONField()

    class Meta:
        managed = False
        db_table = "iproov_audit"
        ordering = ["seq"]
        verbose_name = "audit record"

    def __str__(self) -> str:
        return f"{self.record.get('operation', '?')} #{self.seq}"


class UserRecord(models.Model):
    """A user's limits (token requests in the window, the current journey of each flow)."""

    id: models.TextField[str, str] = models.TextField(primary_key=True)
    version: models.BigIntegerField[int, int] = models.BigIntegerField()
    expires_at_ms: models.BigIntegerField[int, int] = models.BigIntegerField()
    record = models.JSONField()

    class Meta:
        managed = False
        db_table = "iproov_users"
        verbose_name = "user limits record"

    def __str__(self) -> str:
        return str(self.id)
