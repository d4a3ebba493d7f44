from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

import openmodule.models.privacy as privacy_models
from openmodule.models.privacy import (
    AnonymizeMessage,
    AnonymizeRequest,
    AnonymizeResponse,
    PrivacySettings,
    PrivacyTime,
)


def test_all_is_complete():
    public = {
        n
        for n, v in vars(privacy_models).items()
        if isinstance(v, type) and v.__module__ == privacy_models.__name__
    }
    assert public == set(privacy_models.__all__)


def test_anonymize_message_wire(config):
    message = AnonymizeMessage(vehicle_ids=["v1", "v2"])
    wire = json.loads(message.json_bytes())
    assert wire["type"] == "anonymize"
    assert wire["vehicle_ids"] == ["v1", "v2"]
    assert wire["name"] == "om_privacy_test_1"
    assert "session_id" not in wire
    empty = json.loads(AnonymizeMessage(session_id="s1").json_bytes())
    assert empty["vehicle_ids"] == [] and empty["session_id"] == "s1"
    parsed = AnonymizeMessage.model_validate({"timestamp": 1700000000.5, "name": "x", "type": "anonymize"})
    assert parsed.vehicle_ids == [] and parsed.session_id is None


def test_rpc_models():
    assert AnonymizeRequest(session_ids=["a"]).dict() == {"session_ids": ["a"]}
    with pytest.raises(ValidationError):
        AnonymizeRequest()
    assert AnonymizeResponse().dict() == {}


def test_privacy_time():
    assert PrivacyTime().timedelta() is None and PrivacyTime().time() is None
    assert PrivacyTime(minutes=5, hours=1, days=2).timedelta() == dt.timedelta(days=2, hours=1, minutes=5)
    assert PrivacyTime(days=0, hours=3).timedelta() == dt.timedelta(hours=3)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    moment = PrivacyTime(days=1).time()
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert moment.tzinfo is None
    assert before - dt.timedelta(days=1) <= moment <= after - dt.timedelta(days=1)


def test_privacy_settings_defaults_and_max():
    s = PrivacySettings()
    assert s.paid.timedelta() == dt.timedelta(days=1)
    assert s.free.timedelta() == dt.timedelta(minutes=5)
    assert s.rejected.timedelta() == dt.timedelta(days=7)
    assert s.max_timedelta() == dt.timedelta(days=90)
    # Empty entries are ignored instead of failing the comparison.
    s2 = PrivacySettings(unpaid=PrivacyTime(), open=PrivacyTime(), honest_payment=PrivacyTime(days=120))
    assert s2.max_timedelta() == dt.timedelta(days=120)
    nothing = PrivacySettings(**{name: PrivacyTime() for name in PrivacySettings.model_fields})
    assert nothing.max_timedelta() is None
