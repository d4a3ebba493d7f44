"""The README's two anonymization flows across services on a real broker."""

from __future__ import annotations

import logging
import time

from openmodule.models.base import EmptyModel
from openmodule.models.privacy import AnonymizeMessage, AnonymizeRequest, AnonymizeResponse
from openmodule.rpc import RPCClient, RPCServer
from openmodule.utils.privacy import register_anonymize_handler, register_anonymize_rpc


class VehicleStore:
    """A service's personal data: images per vehicle id."""

    def __init__(self, data: dict[str, list[str]]):
        self.data = data

    def anonymize(self, message: AnonymizeMessage) -> int:
        """Deletes the images of the vehicles in the message."""
        removed = 0
        for vid in message.vehicle_ids:
            removed += len(self.data.pop(vid, []))
        return removed


def test_flow_message_from_controller_to_data_service(make_service, connect):
    """Example 2: the controller publishes AnonymizeMessage; the data service deletes and counts."""
    controller = make_service("controller")
    images = make_service("images")
    store = VehicleStore({"v1": ["a.jpg", "b.jpg"], "v2": ["c.jpg"], "v3": ["keep.jpg"]})
    anonymizer = register_anonymize_handler(images.dispatcher, store.anonymize)
    connect(controller, images)

    controller.publish(AnonymizeMessage(vehicle_ids=["v1", "v2"]), "privacy")
    assert anonymizer.wait_for_messages(1)
    assert store.data == {"v3": ["keep.jpg"]}
    assert (anonymizer.messages, anonymizer.records_removed, anonymizer.last_removed) == (1, 3, 3)

    controller.publish(AnonymizeMessage(session_id="s-unknown"), "privacy")  # nothing linked: 0 removed
    assert anonymizer.wait_for_messages(2)
    assert (anonymizer.records_removed, anonymizer.last_removed) == (3, 0)


def test_bad_input_and_failing_handler_never_stop_the_loop(make_service, connect, caplog):
    controller = make_service("controller")
    images = make_service("images")
    calls = []

    def flaky(message: AnonymizeMessage) -> int:
        """Fails on vehicle 'boom'."""
        calls.append(message.vehicle_ids)
        if "boom" in message.vehicle_ids:
            raise RuntimeError("disk gone")
        return len(message.vehicle_ids)

    anonymizer = register_anonymize_handler(images.dispatcher, flaky)
    connect(controller, images)
    caplog.set_level(logging.ERROR)
    # Malformed: vehicle_ids not a list; then a handler error; then a good message must still be served.
    controller.publish(
        {"timestamp": time.time(), "name": "x", "type": "anonymize", "vehicle_ids": 5}, "privacy"
    )
    controller.publish(AnonymizeMessage(vehicle_ids=["boom"]), "privacy")
    controller.publish(AnonymizeMessage(vehicle_ids=["ok1", "ok2"]), "privacy")
    assert anonymizer.wait_for_messages(2)
    assert calls == [["boom"], ["ok1", "ok2"]]
    assert (anonymizer.errors, anonymizer.records_removed) == (1, 2)
    assert "disk gone" in caplog.text and "anonymization failed" in caplog.text

    anonymizer.unregister()
    probe = register_anonymize_handler(images.dispatcher, lambda message: 0)
    connect(controller, images)
    controller.publish(AnonymizeMessage(vehicle_ids=["late"]), "privacy")
    assert probe.wait_for_messages(1)  # delivered to the loop, but no longer to the unregistered handler
    assert anonymizer.messages == 2 and calls == [["boom"], ["ok1", "ok2"]]


def test_flow_rpc_through_dsgvo_service(make_service, connect):
    """Example 1: controller -> RPC privacy/anonymize -> DSGVO maps sessions -> AnonymizeMessage -> services."""
    controller = make_service("controller")
    dsgvo = make_service("dsgvo")
    images = make_service("images")

    links = {"s1": ["v1", "v2"], "s2": ["v9"]}
    dsgvo_images = VehicleStore({"v1": ["dsgvo-1.jpg"], "v9": ["dsgvo-9.jpg"]})
    service_images = VehicleStore({"v1": ["1.jpg", "2.jpg"], "v2": ["3.jpg"], "v9": ["9.jpg"]})

    server = RPCServer(dsgvo.context, publish=dsgvo.publish)
    dsgvo.closers.append(lambda: server.shutdown(timeout=5))
    register_anonymize_rpc(server, lambda sid: links.get(sid, []), dsgvo.publish)

    def ready(request: EmptyModel) -> None:
        """readiness probe of the test"""

    server.register_handler("privacy", "__ready", EmptyModel, EmptyModel, ready, register_schema=False)
    server.run_as_thread()
    # The DSGVO service also listens to its own messages and deletes its images.
    dsgvo_anonymizer = register_anonymize_handler(dsgvo.dispatcher, dsgvo_images.anonymize)
    anonymizer = register_anonymize_handler(images.dispatcher, service_images.anonymize)
    connect(dsgvo, images)
    connect(dsgvo, dsgvo)

    client = RPCClient(controller.dispatcher, controller.publish, default_timeout=5.0, _warn=False)
    controller.closers.append(client.shutdown)
    deadline = time.monotonic() + 10
    while True:  # the server's subscription propagates asynchronously
        try:
            client.rpc("privacy", "__ready", EmptyModel(), EmptyModel, timeout=0.3)
            break
        except RPCClient.TimeoutError:
            assert time.monotonic() < deadline, "DSGVO RPC server not reachable"

    result = client.rpc(
        "privacy", "anonymize", AnonymizeRequest(session_ids=["s1", "s-none"]), AnonymizeResponse
    )
    assert result == AnonymizeResponse()

    assert anonymizer.wait_for_messages(2) and dsgvo_anonymizer.wait_for_messages(2)
    assert service_images.data == {"v9": ["9.jpg"]}
    assert anonymizer.records_removed == 3
    assert dsgvo_images.data == {"v9": ["dsgvo-9.jpg"]}
    assert dsgvo_anonymizer.records_removed == 1

    # Non-blocking form: the entry resolves to the (empty) response once the status is ok.
    entry = client.rpc_non_blocking("privacy", "anonymize", AnonymizeRequest(session_ids=["s2"]))
    assert entry.result(AnonymizeResponse) == AnonymizeResponse()
    assert anonymizer.wait_for_messages(3)
    assert service_images.data == {} and anonymizer.records_removed == 4
