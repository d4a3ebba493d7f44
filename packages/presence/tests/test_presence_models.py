from __future__ import annotations

from datetime import datetime

from openmodule.models.presence import (
    PresenceEnterMessage,
    PresenceForwardMessage,
    PresenceLeaveMessage,
    vehicle_from_presence_message,
)
from openmodule.models.vehicle import (
    LPRCountry,
    LPRMedium,
    MakeModel,
    Medium,
    MediumType,
    NFCMedium,
    PresenceAllIds,
    QRMedium,
    Vehicle,
)


def test_medium_equality_hash_and_str():
    assert Medium(id="1", type="nfc") == NFCMedium(id="1")
    assert len({Medium(id="1", type="nfc"), NFCMedium(id="1"), QRMedium(id="1")}) == 2
    assert str(QRMedium(id="12345678901")) == "qr:1234567890..."
    assert str(NFCMedium(id="1234567890")) == "nfc:1234567890"
    assert LPRMedium(id="A1").country.code == "OTHER"
    assert LPRMedium(id="A1", country=LPRCountry(code="A")) != LPRMedium(
        id="A1", country=LPRCountry(code="D")
    )
    assert str(LPRMedium(id="A1", country=LPRCountry(code="D"))) == "lpr:[D]A1"
    assert QRMedium(id="x", binary="AAE=").type is MediumType.qr


def test_make_model_and_vehicle_str():
    assert str(MakeModel(make="VW", make_confidence=0.5)) == "VW"
    assert str(MakeModel(make="VW", make_confidence=0.5, model="Golf")) == "VW|Golf"
    vehicle = Vehicle(
        id=1234567890123,
        lpr=LPRMedium(id="G1"),
        nfc=NFCMedium(id="9"),
        pin=Medium(id="1", type="pin"),
        make_model=MakeModel(make="VW", make_confidence=1),
    )
    assert str(vehicle) == "Vehicle<id:7890123, lpr:[OTHER]G1, nfc:9 VW>"
    assert str(Vehicle(id=5, make_model=MakeModel(make="VW", make_confidence=1))) == "Vehicle<id:5VW>"
    assert [m.type for m in vehicle.iterate_media()] == ["lpr", "nfc", "pin"]
    assert vehicle.has_media() and not Vehicle(id=1).has_media()


def test_all_ids_defaults_to_empty_and_accepts_a_list():
    assert Vehicle(id=1).dict()["all_ids"] == {}
    assert Vehicle.model_validate({"id": 1, "all_ids": []}).all_ids == PresenceAllIds()


def test_presence_messages_wire_names(presence_msg):
    raw = presence_msg("leave", 1, **{"num-presents": 2})
    leave = PresenceLeaveMessage.model_validate(raw)
    assert (leave.present_area_name, leave.num_presents) == ("area1", 2)
    assert leave.leave_time == leave.timestamp  # 18.x default
    assert leave.enter_time == datetime(2023, 11, 14, 22, 13, 20)  # from the id (ns since epoch)
    dumped = leave.dict()
    assert dumped["present-area-name"] == "area1" and dumped["num-presents"] == 2
    forward = PresenceForwardMessage.model_validate(presence_msg("forward", 1))
    assert (forward.unsure, forward.bidirectional_inverse, forward.leave_time) == (
        False,
        False,
        datetime(2023, 11, 14, 22, 13, 21),
    )
    enter = PresenceEnterMessage(
        vehicle_id=1, source="s", present_area_name="a", last_update=0, gateway={"gate": "g"}, medium={}
    )
    assert enter.dict()["present-area-name"] == "a"


def test_vehicle_from_presence_message(presence_msg):
    vehicle = vehicle_from_presence_message(PresenceEnterMessage.model_validate(presence_msg("enter", 3)))
    assert vehicle.id == 1_700_000_000_000_000_003
    assert vehicle.lpr == LPRMedium(id="GARIVO1", country=LPRCountry(code="A"))
    assert vehicle.qr is None and vehicle.enter_direction == "unknown"
