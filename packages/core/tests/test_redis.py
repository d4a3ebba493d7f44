from __future__ import annotations

import types

from openmodule.config import override_context, settings
from openmodule.utils.redis import redis_client


def test_client_from_settings(redis_key: str) -> None:
    settings.configure(types.SimpleNamespace())
    with override_context(REDIS_HOST="127.0.0.1", REDIS_PORT=6379, REDIS_DB=0):
        client = redis_client()
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == (
            "127.0.0.1",
            6379,
            0,
            None,
        )
        client.set(redis_key, b"value")
        assert client.get(redis_key) == b"value"
        client.close()


def test_client_from_explicit_config() -> None:
    config = types.SimpleNamespace(
        REDIS_HOST="redis.local", REDIS_PORT="6380", REDIS_DB=3, REDIS_PASSWORD="pw"
    )
    client = redis_client(config, socket_timeout=0.5)
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == (
        "redis.local",
        6380,
        3,
        "pw",
    )
    assert kwargs["socket_timeout"] == 0.5
