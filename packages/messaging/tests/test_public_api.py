from __future__ import annotations

import importlib
import logging

import pytest

from openmodule.dispatcher import DropLog


@pytest.mark.parametrize(
    "module", ["openmodule.messaging", "openmodule.dispatcher", "openmodule.models.base"]
)
def test_all_is_complete(module: str) -> None:
    mod = importlib.import_module(module)
    public = {
        name
        for name, value in vars(mod).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("openmodule.")
        and not getattr(value, "__module__", "").startswith("openmodule.config")
        and not name.isupper()
        and name != "settings"
        and name.isidentifier()
    }
    assert public - set(mod.__all__) == set()
    assert all(hasattr(mod, name) for name in mod.__all__)


def test_drop_log_is_rate_limited_but_counts_everything(caplog: pytest.LogCaptureFixture) -> None:
    drops = DropLog(logging.getLogger("test.drops"), interval=3600)
    with caplog.at_level(logging.ERROR, logger="test.drops"):
        for _ in range(1000):
            drops.drop("invalid_json", "topic", "bad")
        drops.drop("frame_count", "other", "3 frames")
    assert drops.snapshot() == {"invalid_json": 1000, "frame_count": 1}
    # the first few of a reason are reported (a single bad message is always seen), then it is quiet
    assert [r.getMessage() for r in caplog.records] == [
        *["dropped message (invalid_json) on topic 'topic': bad"] * drops.burst,
        "dropped message (frame_count) on topic 'other': 3 frames",
    ]
    drops.interval = 0  # the next interval: the report says how many were left out
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="test.drops"):
        drops.drop("invalid_json", "topic", "bad")
    assert caplog.records[0].getMessage().endswith(f"bad ({1000 - drops.burst} more since the last report)")
