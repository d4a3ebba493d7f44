"""Models of anonymization (DSGVO): the ``privacy`` message, the ``privacy``/``anonymize`` RPC, retention times.

Usage::

    from openmodule.models.privacy import AnonymizeMessage, AnonymizeRequest, AnonymizeResponse

    core.publish(AnonymizeMessage(vehicle_ids=[vid1, vid2]), "privacy")
    core.rpc_client.rpc("privacy", "anonymize", AnonymizeRequest(session_ids=[sid]), AnonymizeResponse)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import Field

from openmodule.models.base import OpenModuleModel, ZMQMessage

__all__ = [
    "AnonymizeMessage",
    "AnonymizeRequest",
    "AnonymizeResponse",
    "PrivacySettings",
    "PrivacyTime",
]


class AnonymizeMessage(ZMQMessage):
    """Published on topic ``privacy``: delete the data of these vehicles (and/or this session).

    Usage: ``publish(AnonymizeMessage(vehicle_ids=["v1"]), "privacy")``
    """

    type: str = "anonymize"
    session_id: str | None = None
    vehicle_ids: list[str] = Field(default_factory=list)


class AnonymizeRequest(OpenModuleModel):
    """Request of RPC ``privacy``/``anonymize``: the DSGVO service maps the sessions to vehicle ids."""

    session_ids: list[str]


class AnonymizeResponse(OpenModuleModel):
    """Empty response of RPC ``privacy``/``anonymize``; success is the RPC status ``ok``."""


class PrivacyTime(OpenModuleModel):
    """A retention period. Usage: ``PrivacyTime(days=30).time()  # delete data older than this``"""

    minutes: int | None = None
    hours: int | None = None
    days: int | None = None

    def timedelta(self) -> timedelta | None:
        """The sum of the given parts, or ``None`` if all are empty."""
        if not (self.minutes or self.hours or self.days):
            return None
        return timedelta(minutes=self.minutes or 0, hours=self.hours or 0, days=self.days or 0)

    def time(self) -> datetime | None:
        """Naive UTC now minus the period: data older than this is due; ``None`` if the period is empty."""
        delta = self.timedelta()
        if delta is None:
            return None
        return datetime.now(UTC).replace(tzinfo=None) - delta


class PrivacySettings(OpenModuleModel):
    """Retention periods per kind of parking session (defaults of the reference)."""

    paid: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=1))
    unpaid: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=90))
    registered_free: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=30))
    pay_via_invoice: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=30))
    open: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=90))
    free: PrivacyTime = Field(default_factory=lambda: PrivacyTime(minutes=5))
    honest_payment: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=90))
    erroneous: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=30))
    rejected: PrivacyTime = Field(default_factory=lambda: PrivacyTime(days=7))

    def max_timedelta(self) -> timedelta | None:
        """The longest retention period; empty entries are ignored (``None`` if all are empty)."""
        deltas = [getattr(self, name).timedelta() for name in type(self).model_fields]
        given = [d for d in deltas if d is not None]
        return max(given) if given else None
