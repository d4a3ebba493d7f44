from __future__ import annotations

import logging
import warnings
from datetime import datetime

import pytest

from openmodule.models.access_service import (
    AccessCategory,
    AccessCheckAccess,
    AccessCheckRequest,
    AccessCheckResponse,
    SessionDeleteMessage,
    SessionFinishMessage,
    SessionStartMessage,
)
from openmodule.models.vehicle import Medium
from openmodule.utils.access_service import AccessService, AccessServiceWithSessions


def access(id_: str) -> AccessCheckAccess:
    return AccessCheckAccess(
        id=id_,
        source="test",
        access_infos={},
        category=AccessCategory.permanent,
        media={},
        used_medium=Medium(id="GARIVO1", type="lpr"),
        access_data={},
        accepted=True,
    )


class Service(AccessServiceWithSessions):
    auth_request_request_model = AccessCheckRequest

    def __init__(self, dispatcher):
        self.calls = []
        super().__init__(dispatcher)

    def rpc_check_access(self, request, message):
        self.calls.append(("rpc", request.vehicle.lpr.id, message.type))
        return AccessCheckResponse(success=True, accesses=[access("a1")])

    def check_in_session(self, message):
        self.calls.append(("in", message.id, message.access_id))

    def check_out_session(self, message):
        self.calls.append(("out", message.id, message.timestamp))

    def session_error_message(self, message):
        if getattr(message, "reason", None) == "boom":
            raise RuntimeError("boom")
        self.calls.append(("error", message.id, message.type))


def start(id_="s1", user="u1"):
    return {
        "type": "start",
        "name": "sessions",
        "timestamp": 1700000000.0,
        "id": id_,
        "user_id": user,
        "entry_time": "2024-01-01T08:00:00",
        "entry_data": {"gate": "in"},
    }


def test_rpc_answers_requests_naming_this_service(bus):
    service = Service(bus.dispatcher)
    service.register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()
    request = AccessCheckRequest(name="om_access_test_1", gate="gate_in", vehicle={"lpr": {"id": "GARIVO1"}})
    response = bus.client.rpc("access_service", "auth", request, AccessCheckResponse, timeout=10)
    assert response.success is True and [a.id for a in response.accesses] == ["a1"]
    assert service.calls == [("rpc", "GARIVO1", "auth")]


def test_rpc_ignores_requests_for_other_services(bus):
    service = Service(bus.dispatcher)
    service.register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()
    other = AccessCheckRequest(name="om_access_other_1", vehicle={"lpr": {"id": "X"}})
    with pytest.raises(bus.client.TimeoutError):
        bus.client.rpc("access_service", "auth", other, AccessCheckResponse, timeout=1)
    assert service.calls == []


def test_sessions_are_dispatched_and_errors_logged(bus, caplog):
    caplog.set_level(logging.ERROR, logger="openmodule.utils.access_service")
    service = Service(bus.dispatcher)
    finish = {**start("s2"), "type": "finish", "exit_time": "2024-01-01T09:30:00", "exit_data": {}}
    delete = {**start("s3"), "type": "delete", "reason": "boom", "delete_time": 1700000000.0}
    incomplete = {**start("s4"), "type": "incomplete", "related_session_id": "s1"}
    bus.send(start(), finish, delete, incomplete, {"type": "start", "id": "broken"})
    assert service.calls == [
        ("in", "s1", "u1"),
        ("out", "s2", datetime(2024, 1, 1, 9, 30)),
        ("error", "s4", "incomplete"),
    ]
    errors = [r for r in caplog.records if "session_error_message failed" in r.getMessage()]
    assert len(errors) == 1 and "'reason': 'boom'" in errors[0].getMessage()
    assert "'name'" not in errors[0].getMessage()


def test_readme_backend_form_warns_and_works(bus):
    class Legacy(AccessService):
        auth_request_request_model = AccessCheckRequest

        def __init__(self):
            super().__init__(implements_session_handling=True, dispatcher=bus.dispatcher)
            self.seen = []

        def rpc_check_access(self, request):
            return AccessCheckResponse(success=False, error="offline")

        def check_in_session(self, message):
            self.seen.append(message.id)

    with pytest.warns(DeprecationWarning, match="implements_session_handling"):
        legacy = Legacy()
    legacy.register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()
    request = AccessCheckRequest(name="om_access_test_1", vehicle={})
    response = bus.client.rpc("access_service", "auth", request, AccessCheckResponse, timeout=10)
    assert (response.success, response.error) == (False, "offline")
    bus.send(start("s9"))
    assert legacy.seen == ["s9"]


def test_missing_request_model_and_abstract_methods():
    class Incomplete(AccessService):
        pass

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        service = Incomplete()
    with pytest.raises(AssertionError, match="auth_request_request_model"):
        service.register_rpcs(object())
    with pytest.raises(NotImplementedError):
        service.rpc_check_access(None, None)


def test_session_message_models():
    message = SessionStartMessage.model_validate(start())
    assert message.access_id == "u1"
    assert message.timestamp == datetime(2024, 1, 1, 8, 0)  # the event time
    dumped = message.dict()
    assert dumped["user_id"] == "u1" and dumped["timestamp"] == 1700000000.0  # the wire keeps the send time
    by_name = SessionFinishMessage(
        id="x", access_id="u", entry_time=0, entry_data={}, exit_time=60, exit_data={}
    )
    assert by_name.timestamp == datetime(1970, 1, 1, 0, 1)
    delete = SessionDeleteMessage(id="x", user_id="u", reason="r", delete_time=120)
    assert delete.timestamp == datetime(1970, 1, 1, 0, 2) and delete.entry_time is None


def test_deprecated_backend_class(bus):
    from openmodule.utils.access_service import Backend

    class MyBackend(Backend):
        auth_request_request_model = AccessCheckRequest

        def check_in_session(self, message):
            self.seen = message.id

    with pytest.warns(DeprecationWarning, match="Backend is deprecated"):
        backend = MyBackend(dispatcher=bus.dispatcher)
    assert backend.implements_session_handling is True
    bus.send(start("s7"))
    assert backend.seen == "s7"


def test_all_is_complete():
    import openmodule.utils.access_service as module

    eager = {n for n in vars(module) if not n.startswith("_") and n not in ("annotations", "Any")}
    # the database variant is imported on first use (module __getattr__)
    assert set(module.__all__) == eager | {"AccessModelBase", "AccessServiceWithDatabase"}
    assert all(getattr(module, name) is not None for name in module.__all__)


def test_the_database_variant_is_imported_on_first_use():
    import subprocess
    import sys

    code = (
        "import sys, openmodule.utils.access_service as m\n"
        "assert 'sqlalchemy' not in sys.modules, 'eager'\n"
        "m.AccessServiceWithDatabase\n"
        "assert 'sqlalchemy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
