"""Mixins to test access services (and the deprecated ``Backend``) the way the controller talks to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from openmodule.models.access_service import (
    AccessCheckRequest,
    AccessCheckResponse,
    AccessRequestVehicle,
    SessionFinishMessage,
    SessionStartMessage,
)
from openmodule_test.core import OpenModuleCoreTestMixin

__all__ = ["AccessServiceWithSessionsTestMixin", "BackendTestMixin"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class AccessServiceWithSessionsTestMixin(OpenModuleCoreTestMixin):
    """Creates ``self.access_service = access_service_class(...)`` on a real core.

    The class is built with ``dispatcher=self.core.messages`` so its session handlers receive the session
    messages this mixin sends through the core.

    Usage::

        class MyServiceTest(AccessServiceWithSessionsTestMixin):
            access_service_class = MyAccessService
            def test_auth(self):
                response = self.check_auth(AccessRequestVehicle(lpr=LPRMedium(id="GARIVO1")))
    """

    access_service_class: ClassVar[type | None] = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        assert cls.access_service_class is not None, "set access_service_class on the test class"

    def create_access_service(self) -> Any:
        assert self.access_service_class is not None
        return self.access_service_class(dispatcher=self.core.messages)

    def setUp(self) -> None:
        super().setUp()
        self.access_service = self.create_access_service()
        self.wait_for_dispatcher(self.core.messages)

    def check_auth(self, vehicle: AccessRequestVehicle, **kwargs: Any) -> AccessCheckResponse:
        """Call ``rpc_check_access`` directly (no RPC) with a request for ``vehicle``."""
        kwargs.setdefault("name", self.zmq_config().NAME)
        request = AccessCheckRequest(vehicle=vehicle, **kwargs)
        return self.access_service.rpc_check_access(request, None)  # type: ignore[no-any-return]

    def _session_fields(
        self,
        gate: str,
        medium_id: str,
        medium_type: str,
        user_id: str,
        timestamp: datetime | None,
        session_id: str,
        group_id: str | None,
        customer_id: str | None,
        car_id: str | None,
    ) -> tuple[dict[str, Any], datetime]:
        data = {"used_medium": {"id": medium_id, "type": medium_type}, "gate": gate}
        fields = dict(
            id=session_id, user_id=user_id, group_id=group_id, customer_id=customer_id, car_id=car_id
        )
        return {"data": data, **fields}, timestamp or _now()

    def send_session_start_message(
        self,
        gate: str = "gate1",
        medium_id: str = "GARIVO1",
        medium_type: str = "lpr",
        zone_id: str = "zone_1",
        user_id: str = "user-1",
        timestamp: datetime | None = None,
        session_id: str = "session-1",
        group_id: str | None = None,
        customer_id: str | None = None,
        car_id: str | None = None,
    ) -> SessionStartMessage:
        fields, time = self._session_fields(
            gate, medium_id, medium_type, user_id, timestamp, session_id, group_id, customer_id, car_id
        )
        data = fields.pop("data")
        message = SessionStartMessage(entry_time=time, entry_data=data, **fields)
        self.core.publish(message, "session")
        return message

    def send_session_finish_message(
        self,
        gate: str = "gate2",
        medium_id: str = "GARIVO1",
        medium_type: str = "lpr",
        zone_id: str = "zone_1",
        user_id: str = "user-1",
        timestamp: datetime | None = None,
        session_id: str = "session-1",
        group_id: str | None = None,
        customer_id: str | None = None,
        car_id: str | None = None,
    ) -> SessionFinishMessage:
        fields, time = self._session_fields(
            gate, medium_id, medium_type, user_id, timestamp, session_id, group_id, customer_id, car_id
        )
        data = fields.pop("data")
        message = SessionFinishMessage(
            entry_time=time, entry_data=data, exit_time=time, exit_data=data, **fields
        )
        self.core.publish(message, "session")
        return message


class BackendTestMixin(AccessServiceWithSessionsTestMixin):
    """The reference's name for testing a (deprecated) ``Backend``; set ``backend_class`` or
    ``access_service_class``."""

    backend_class: ClassVar[type | None] = None

    @classmethod
    def setUpClass(cls) -> None:
        if cls.access_service_class is None:
            cls.access_service_class = cls.backend_class
        super().setUpClass()

    def setUp(self) -> None:
        super().setUp()
        self.backend = self.access_service
