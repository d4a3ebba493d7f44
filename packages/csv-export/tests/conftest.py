from __future__ import annotations

import types

import pytest

from openmodule.config import settings


@pytest.fixture(autouse=True)
def configured(om_clean_settings: None) -> None:
    settings.configure(
        types.SimpleNamespace(NAME="om_csv_test_1", RESOURCE="device-4711", TIMEZONE="Europe/Vienna")
    )


@pytest.fixture
def render_text():
    """Render to bytes; return (raw bytes, decoded text without BOM)."""
    import io

    from openmodule.utils.csv_export import render

    def run(data, columns, **kw):
        buffer = io.BytesIO()
        render(buffer, data, columns, **kw)
        raw = buffer.getvalue()
        assert raw[:2] == b"\xff\xfe"
        return raw, raw[2:].decode("utf-16-le")

    return run
