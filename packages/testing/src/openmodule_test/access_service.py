"""Mixins to test access services (and the deprecated ``Backend``) the way the controller talks to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from openmodule.dispatcher import MessageDispatcher
from openmodule.models.access_service import (
    AccessCheckAccess,
    AccessCheckRequest,
    AccessCheckResponse,
    AccessRequestVehicle,
    SessionFinishMessage,
    SessionStartMessage,
)
from openmodule.utils.access_service import AccessServiceWithSessions
from openmodule.utils.matching import MatchingConfig
from openmodule_test.core import OpenModuleCoreTestMixin
from openmodule_test.database import SQLiteTestMixin
from openmodule_test.eventlistener import MockEvent

__all__ = [
    "AccessServiceWithDatabaseTestMixin",
    "AccessServiceWithSessionsTestMixin",
    "BackendTestMixin",
    "TestAccessServiceWithSessions",
]


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


class AccessServiceWithDatabaseTestMixin(OpenModuleCoreTestMixin, SQLiteTestMixin):
    """Creates ``self.access_service = access_service_class(self.database, matching_config, settings, 300)``
    on a real core and a real, migrated SQLite database (emptied after each test).

    Usage::

        class MyServiceTest(AccessServiceWithDatabaseTestMixin):
            alembic_path = "../src/database"
            access_service_class = MyAccessService
            settings = SettingsMocker({("common/gates", ""): {...}})
    """

    access_service_class: ClassVar[type | None] = None
    matching_config: ClassVar[MatchingConfig] = MatchingConfig()
    #: the settings provider handed to the service (``None``: an empty ``SettingsMocker``)
    settings: ClassVar[Any] = None

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        assert cls.access_service_class is not None, "set access_service_class on the test class"

    def setUp(self) -> None:
        super().setUp()
        assert self.access_service_class is not None
        if self.settings is None:
            from openmodule_test.settings import SettingsMocker  # settings_models only when used

            type(self).settings = SettingsMocker({})
        self.access_service = self.access_service_class(
            self.database, self.matching_config, self.settings, 300
        )

    def tearDown(self) -> None:
        self.access_service.shutdown()
        super().tearDown()


class TestAccessServiceWithSessions(AccessServiceWithSessions):
    """A sample access service for tests of the mixins: accesses from the class-level dicts
    ``access_by_lpr|qr|nfc|pin`` (medium id -> ``AccessCheckAccess`` fields), records ``accessed`` requests and
    ``checked_in`` / ``checked_out`` session messages (class-level lists).

    Request gates ``exception`` (raises), ``empty`` (no accesses), ``offline`` and ``error`` (that error) and
    the session gate ``error`` (check-in/out raise) drive the error paths. ``wait_for_message_process()``
    waits until the next session message was handled.
    """

    __test__ = False  # not a pytest test class

    auth_request_request_model = AccessCheckRequest
    access_by_lpr: ClassVar[dict[str, dict[str, Any]]] = {}
    access_by_qr: ClassVar[dict[str, dict[str, Any]]] = {}
    access_by_nfc: ClassVar[dict[str, dict[str, Any]]] = {}
    access_by_pin: ClassVar[dict[str, dict[str, Any]]] = {}
    accessed: ClassVar[list[Any]] = []
    checked_in: ClassVar[list[Any]] = []
    checked_out: ClassVar[list[Any]] = []

    def __init__(self, dispatcher: MessageDispatcher) -> None:
        super().__init__(dispatcher)
        self.message_processed = MockEvent()

    def rpc_check_access(self, request: Any, message: Any = None) -> AccessCheckResponse:
        """Answers from the class-level access tables; the gates "exception", "empty", "offline" and
        "error" simulate a failing, empty, offline and erroring service."""
        self.accessed.append(request)
        if request.gate == "exception":
            raise Exception("test_exception")
        if request.gate == "empty":
            return AccessCheckResponse(success=True, accesses=[])
        if request.gate in ("offline", "error"):
            return AccessCheckResponse(success=False, error=request.gate, accesses=[])
        accesses = []
        vehicle = request.vehicle
        for medium, table in (
            (vehicle.lpr, self.access_by_lpr),
            (vehicle.qr, self.access_by_qr),
            (vehicle.nfc, self.access_by_nfc),
            (vehicle.pin, self.access_by_pin),
        ):
            if medium is not None and medium.id in table:
                accesses.append(AccessCheckAccess(**table[medium.id]))
        return AccessCheckResponse(success=True, accesses=accesses)

    def _session_gate(self, message: Any, data: dict[str, Any] | None) -> str | None:
        return (data or {}).get("gate")

    def _guarded(self, method: Any) -> Any:
        guarded = super()._guarded(method)

        def handle(message: Any) -> None:
            # Signalled after the base class has logged a failing handler, so a test that waits for the
            # message also sees its log record ("Error in session check in").
            try:
                guarded(message)
            finally:
                self.message_processed()

        handle.__doc__ = guarded.__doc__
        return handle

    def check_in_session(self, message: SessionStartMessage) -> None:
        if self._session_gate(message, message.entry_data) == "error":
            raise Exception("check in failed (gate error)")
        self.checked_in.append(message)

    def check_out_session(self, message: SessionFinishMessage) -> None:
        if self._session_gate(message, message.exit_data) == "error":
            raise Exception("check out failed (gate error)")
        self.checked_out.append(message)

    def session_error_message(self, message: Any) -> None:
        """Session errors are only counted as handled."""

    def wait_for_message_process(self, timeout: float = 3) -> None:
        """Wait until a session message was handled since the last call."""
        self.message_processed.wait_for_call(timeout=timeout)
        self.message_processed.reset_mock()
