"""openmodule.logging: logging set-up of an openmodule service (``init_openmodule(logging=True)``).

Usage::

    from openmodule.logging import init_logging

    init_logging(settings)                 # basicConfig(level=LOG_LEVEL) + captureWarnings
    init_logging(settings, json=True)      # one JSON object per line, for log shippers

The JSON format is opt-in: ``json=True``, a ``LOG_FORMAT = "json"`` setting or the ``LOG_FORMAT=json``
environment variable.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import logging
import os
from typing import TYPE_CHECKING, Any, cast

from openmodule.config import ServiceConfig

if TYPE_CHECKING:
    from openmodule.core import OpenModuleCore

__all__ = ["JsonFormatter", "init_logging", "json_logging_requested"]

# Attributes every LogRecord has; anything else was passed with ``extra=`` and goes into the JSON object.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO-8601 UTC), level, logger, message, exception, ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _dt.datetime.fromtimestamp(record.created, _dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                data[key] = value
        return _json.dumps(data, default=str, ensure_ascii=False)


def json_logging_requested(config: ServiceConfig | None = None) -> bool:
    """True when the config's ``LOG_FORMAT`` or the environment's ``LOG_FORMAT`` is ``json``."""
    value = getattr(config, "LOG_FORMAT", None) or os.environ.get("LOG_FORMAT", "")
    return str(value).strip().lower() == "json"


def init_logging(core_or_config: ServiceConfig | OpenModuleCore, *, json: bool | None = None) -> None:
    """Configure the root logger with the config's ``LOG_LEVEL`` and route warnings into logging.

    ``core_or_config`` is the core (its ``config`` is used) or the config object itself.
    """
    config = cast(ServiceConfig, getattr(core_or_config, "config", core_or_config))
    assert hasattr(config, "LOG_LEVEL"), (
        "config has no LOG_LEVEL: use openmodule.config.settings or define it"
    )
    level = config.LOG_LEVEL
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            level = logging.INFO
    if json is None:
        json = json_logging_requested(config)
    if json:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level)
    # basicConfig is a no-op when the root logger already has handlers (a test runner), the level still applies
    logging.getLogger().setLevel(level)
    logging.captureWarnings(True)
