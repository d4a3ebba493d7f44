"""``GlobalSettings``: the defaults every service has, derived from the environment."""

from __future__ import annotations

from typing import Any

from openmodule.config import _functions as f
from openmodule.config._env import bool as env_bool
from openmodule.config._env import int as env_int
from openmodule.config._env import string


def global_defaults() -> dict[str, Any]:
    """Every global setting, computed from the environment as it is now.

    Called when the lazy settings are set up (not only at import), so environment changes made after
    ``import openmodule.config`` are seen; for an unchanged environment the values are the same.
    """
    testing = f.testing()
    return {
        "NAME": string("NAME", "om_dev_unnamed_1"),
        "PARENT": string("PARENT") or None,
        "VERSION": f.version(),
        "RESOURCE": f.resource(),
        "DEBUG": f.debug(),
        "TESTING": testing,
        "LOG_LEVEL": f.log_level(),
        "DATABASE_FOLDER": f.database_folder(),
        "CURRENCY": string("CURRENCY", "EUR"),
        "TIMEZONE": string("TIMEZONE", "Europe/Vienna"),
        "BROKER_SUB": f.broker_sub(),
        "BROKER_PUB": f.broker_pub(),
        # Largest frame (bytes) a SUB socket accepts; 0 or less: no limit (docs/messaging.md).
        "MAX_MESSAGE_SIZE": env_int("MAX_MESSAGE_SIZE", 4 * 1024 * 1024),
        # Handler calls waiting for a worker of a dispatcher or RPC server executor (docs/messaging.md).
        "HANDLER_QUEUE_LIMIT": env_int("HANDLER_QUEUE_LIMIT", 1000),
        "LOCAL_DEVELOPMENT": env_bool("LOCAL_DEVELOPMENT", False),
        "COMPUTE_ID": f.compute_id(),
        "DAEMON": env_bool("DAEMON", False),
        "DIST_FOLDER": f.dist_folder(),
        "DEV_DEVICE": f.dev_device(),
        "REDIS_HOST": string("REDIS_HOST", "localhost"),
        "REDIS_PASSWORD": string("REDIS_PASSWORD", "") or None,
        "REDIS_PORT": env_int("REDIS_PORT", 6379),
        "REDIS_DB": env_int("REDIS_DB", 0),
        "REDIS_CONNECTION_STATUS_KEY": string("REDIS_CONNECTION_STATUS_KEY", "device_connection_status"),
        "LOCALE_DIR": f.locale_dir(),
        "LANGUAGE": "" if testing else string("LANGUAGE", "de").lower(),
        "DATABOX_UPLOAD_DIR": string("DATABOX_UPLOAD_DIR", "/upload"),
    }


class _GlobalSettingsMeta(type):
    # Class attributes are computed on access so the class always reflects the current environment.
    def __getattr__(cls, name: str) -> Any:
        defaults = global_defaults()
        if name in defaults:
            return defaults[name]
        raise AttributeError(f"GlobalSettings has no setting {name!r}")

    def __dir__(cls) -> list[str]:
        return sorted(set(super().__dir__()) | set(global_defaults()))


class GlobalSettings(metaclass=_GlobalSettingsMeta):
    """The settings every service has (NAME, VERSION, RESOURCE, BROKER_PUB, REDIS_HOST, ...).

    Read them through ``openmodule.config.settings``; the service's settings module may override any of
    them by defining an upper-case variable of the same name.
    """
