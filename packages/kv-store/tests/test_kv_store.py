from __future__ import annotations

import json
import logging
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import SQLAlchemyError

from openmodule.messaging import set_running_core
from openmodule.models.kv_store import (
    KVSetRequest,
    KVSetRequestKV,
    KVSetResponse,
    KVSyncRequest,
    KVSyncResponse,
)
from openmodule.utils.kv_store import KVStore, KVStoreWithChangedNotification


def kv(key, value=None, e_tag=None, previous_e_tag=None):
    return KVSetRequestKV(
        key=key,
        value="null" if value is None else json.dumps(value),
        e_tag=e_tag,
        previous_e_tag=previous_e_tag,
    )


def rows(database, table):
    with database as session:
        return sorted(
            (r.key, r.e_tag, *[getattr(r, c) for c in table.parse_value({"plate": 0, "cents": 0})])
            for r in session.query(table)
        )


@pytest.fixture
def store(database, models):
    class AccessStore(KVStore):
        database_table = models["Access"]

    return AccessStore(database, rpc_client=None, sync_timeout=6)


def fill(database, models, *entries):
    with database as session:
        for key, e_tag, plate in entries:
            session.add(models["Access"](key=key, e_tag=e_tag, plate=plate))


def test_set_adds_replaces_and_deletes_in_one_request(store, database, models):
    fill(database, models, ("a", 1, "A1"), ("b", 2, "B1"), ("c", 3, "C1"))
    store._kvs_set(
        KVSetRequest(
            service="om_kv_test_1",
            kvs=[
                kv("a", {"plate": "A2", "note": "x"}, e_tag=4, previous_e_tag=1),
                kv("b", None, e_tag=5, previous_e_tag=2),
                kv("d", {"plate": "D1"}, e_tag=6),
            ],
        )
    )
    assert rows(database, models["Access"]) == [
        ("a", 4, "A2", "x"),
        ("c", 3, "C1", None),
        ("d", 6, "D1", None),
    ]


def test_a_broken_e_tag_chain_applies_nothing(store, database, models, caplog):
    fill(database, models, ("a", 1, "A1"), ("b", 2, "B1"))
    request = KVSetRequest(
        service="om_kv_test_1",
        kvs=[
            kv("a", {"plate": "A2"}, e_tag=3, previous_e_tag=1),
            kv("b", {"plate": "B2"}, e_tag=4, previous_e_tag=9),
        ],
    )
    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(KVStore.ETagMismatchException, match="'b' names previous e_tag 9 but 2"),
    ):
        store._kvs_set(request)
    assert rows(database, models["Access"]) == [("a", 1, "A1", None), ("b", 2, "B1", None)]
    assert store.counts["etag_mismatch"] == 1 and "nothing of the request was applied" in caplog.text
    # a new key must not name a previous e_tag, a known key must name its own
    for wrong in (kv("new", {"plate": "N"}, e_tag=5, previous_e_tag=1), kv("a", {"plate": "A3"}, e_tag=5)):
        with pytest.raises(KVStore.ETagMismatchException):
            store._kvs_set(KVSetRequest(service="om_kv_test_1", kvs=[wrong]))


def test_a_chain_within_one_request(store, database, models):
    fill(database, models, ("a", 1, "A1"))
    store._kvs_set(
        KVSetRequest(
            service="om_kv_test_1",
            kvs=[
                kv("a", None, e_tag=2, previous_e_tag=1),
                kv("a", {"plate": "A3"}, e_tag=3, previous_e_tag=None),
                kv("a", {"plate": "A4"}, e_tag=4, previous_e_tag=3),
            ],
        )
    )
    assert rows(database, models["Access"]) == [("a", 4, "A4", None)]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (KVSetRequestKV(key="x", value="{not json", e_tag=9), ValueError),
        (kv("x", ["not", "an", "object"], e_tag=9), AttributeError),
        (kv("x", {"note": "no plate"}, e_tag=9), SQLAlchemyError),
        (kv("x", {"plate": {"a": 1}}, e_tag=9), SQLAlchemyError),
    ],
)
def test_a_bad_value_rolls_the_whole_request_back(store, database, models, bad, error):
    fill(database, models, ("a", 1, "A1"))
    request = KVSetRequest(
        service="om_kv_test_1",
        kvs=[kv("a", None, e_tag=2, previous_e_tag=1), kv("b", {"plate": "B"}, e_tag=3), bad],
    )
    with pytest.raises(error):
        store._kvs_set(request)
    assert rows(database, models["Access"]) == [("a", 1, "A1", None)]


def test_sync_compares_e_tags(store, database, models):
    fill(database, models, ("same", 1, "S"), ("changed", 2, "C"), ("only_here", 3, "H"))
    response = store._kvs_sync(
        KVSyncRequest(service="om_kv_test_1", kvs={"same": 1, "changed": 7, "only_there": 8})
    )
    assert response == KVSyncResponse(
        additions={"only_here": 3}, changes={"changed": 2}, missing={"only_there": 8}
    )


def test_the_rpcs_with_two_stores_in_one_service(bus, database, models):
    class AccessStore(KVStore):
        database_table = models["Access"]

    class TariffStore(KVStore):
        database_table = models["Tariff"]
        service_name = "om_kv_test_1_tariffs"

    accesses, tariffs = AccessStore(database), TariffStore(database)
    accesses.register_rpcs(bus.rpc_server)
    tariffs.register_rpcs(bus.rpc_server)
    with pytest.raises(ValueError, match="own service_name"):
        AccessStore(database).register_rpcs(bus.rpc_server)
    bus.rpc_server.run_as_thread()

    set_access = KVSetRequest(service="om_kv_test_1", kvs=[kv("a", {"plate": "A"}, e_tag=1)])
    set_tariff = KVSetRequest(service="om_kv_test_1_tariffs", kvs=[kv("t", {"cents": 150}, e_tag=1)])
    assert bus.client.rpc("kv_sync", "set", set_access, KVSetResponse) == KVSetResponse()
    bus.client.rpc("kv_sync", "set", set_tariff, KVSetResponse)
    assert rows(database, models["Access"]) == [("a", 1, "A", None)]
    with database as session:
        assert [(t.key, t.cents) for t in session.query(models["Tariff"])] == [("t", "150")]
    sync = bus.client.rpc(
        "kv_sync", "sync", KVSyncRequest(service="om_kv_test_1_tariffs", kvs={}), KVSyncResponse
    )
    assert sync.additions == {"t": 1}

    broken = KVSetRequest(service="om_kv_test_1", kvs=[kv("a", {"plate": "B"}, e_tag=2, previous_e_tag=5)])
    with pytest.raises(bus.client.ServerHandlerError, match="previous e_tag 5"):
        bus.client.rpc("kv_sync", "set", broken, KVSetResponse)
    with pytest.raises(bus.client.TimeoutError):  # another service's store: not answered
        bus.client.rpc(
            "kv_sync", "sync", KVSyncRequest(service="om_other_1", kvs={}), KVSyncResponse, timeout=1
        )


def test_sync_with_server_and_its_outcomes(bus, store, caplog):
    store.rpc_client = bus.client
    assert store._log_sync_rpc_response(store.sync_with_server()) is True
    request = bus.cloud_requests[-1]
    assert request.rpc == "kvs_sync"
    assert request.data == {"resource": "test-resource", "service": "om_kv_test_1", "timeout": 1}

    def fail(request):
        raise RuntimeError("cloud unreachable")

    bus.cloud_answer = fail
    with caplog.at_level(logging.ERROR):
        assert store._log_sync_rpc_response(store.sync_with_server()) is False
    assert "failed on the server" in caplog.text and store.counts["sync_error"] == 1

    store.sync_timeout = 0.3
    bus.cloud_answer = lambda request: time.sleep(1) or {}
    assert store._log_sync_rpc_response(store.sync_with_server()) is False
    assert store.counts["sync_timeout"] == 1


class Listener:
    """A connection listener with the core's interface, driven by the test."""

    def __init__(self, status):
        self.status, self.previous = status, "shutdown"
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def set(self, status):
        with self._lock:
            self.previous, self.status = self.status, status
            self._seen.clear()

    def get(self):
        return self.status

    def changed(self, id):
        with self._lock:
            if id in self._seen:
                return False
            self._seen.add(id)
            return True


def om_wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_run_syncs_when_the_connection_comes_up_and_retries(bus, store):
    listener = Listener("startup")
    set_running_core(SimpleNamespace(rpc_client=bus.client, connection_listener=listener))
    answers = ["fail", "ok"]

    def answer(request):
        if answers and answers.pop(0) == "fail":
            raise RuntimeError("not yet")
        return {}

    bus.cloud_answer = answer
    store.sync_timeout = 0.2
    store.run_as_thread()
    om_wait_until(lambda: len(bus.cloud_requests) == 2)  # the failed sync was retried once
    listener.set("offline")
    listener.set("online")
    om_wait_until(lambda: len(bus.cloud_requests) == 3)
    listener.set("online")  # online -> online is no transition
    store.shutdown()
    assert not store.run_thread.is_alive()
    assert len(bus.cloud_requests) == 3


def test_shutdown_cancels_a_pending_sync(bus, store):
    listener = Listener("online")
    set_running_core(SimpleNamespace(rpc_client=bus.client, connection_listener=listener))
    started = threading.Event()
    bus.cloud_answer = lambda request: started.set() or time.sleep(3) or {}
    store.sync_timeout = 1000
    store.run_as_thread()
    assert started.wait(10)
    begin = time.monotonic()
    store.shutdown(timeout=10)
    assert not store.run_thread.is_alive() and time.monotonic() - begin < 2.5


def test_shutdown_between_sending_and_recording_the_sync_still_cancels_it(bus, store):
    # shutdown() lands after the request left but before the store kept its entry: the sync must not
    # wait for the (slow) answer anyway
    listener = Listener("online")
    set_running_core(SimpleNamespace(rpc_client=bus.client, connection_listener=listener))
    bus.cloud_answer = lambda request: time.sleep(3) or {}
    store.sync_timeout = 1000
    send = store.sync_with_server

    def send_then_shut_down():
        entry = send()
        stopper = threading.Thread(target=store.shutdown, kwargs={"timeout": 0})
        stopper.start()
        stopper.join()
        return entry

    store.sync_with_server = send_then_shut_down
    begin = time.monotonic()
    store.run_as_thread().join(10)
    assert not store.run_thread.is_alive()
    assert time.monotonic() - begin < 2.5


def test_changed_notification(database, models):
    sent = []

    class NotifyingStore(KVStoreWithChangedNotification):
        database_table = models["Access"]

        def _get_comparison_values(self, updated_kv_entries):
            return {row.key: row.comparison_value() for row in updated_kv_entries}

        def _send_changed_notification(self, success_keys, old_values):
            sent.append(self._find_changed_kvs(success_keys, old_values))

    fill(database, models, ("same", 1, "S"), ("edit", 2, "E"), ("gone", 3, "G"))
    NotifyingStore(database)._kvs_set(
        KVSetRequest(
            service="om_kv_test_1",
            kvs=[
                kv("same", {"plate": "S"}, e_tag=4, previous_e_tag=1),
                kv("edit", {"plate": "E2"}, e_tag=5, previous_e_tag=2),
                kv("gone", None, e_tag=6, previous_e_tag=3),
                kv("never", None),
                kv("new", {"plate": "N"}, e_tag=7),
            ],
        )
    )
    assert sent == [["edit", "gone", "new"]]
