"""Answers read from the lazy settings, which the settings module and test overrides may change.

Among them the one answer to "is this a test run?" and "is this a debug run?" for the code of every
distribution: ``testing()`` and ``debug()`` read the environment (they compute the defaults of ``TESTING`` and
``DEBUG``); code that must behave differently in a test or debug run asks :func:`is_testing` /
:func:`is_debug` instead, so that every distribution answers the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from openmodule.config._functions import debug, testing
from openmodule.config._lazy import settings

__all__ = ["is_bridged_master", "is_bridged_slave", "is_debug", "is_development", "is_testing"]


def _flag(name: str, config: object | None, from_environment: Callable[[], bool]) -> bool:
    if config is None:
        config = settings
    try:
        return bool(getattr(config, name, False))
    except Exception:  # the lazy settings found no settings module (a bare tool): the environment decides
        return from_environment()


def is_testing(config: object | None = None) -> bool:
    """True in a test run: ``config.TESTING`` if a config object is given, else ``settings.TESTING``.

    Without a settings module (``settings.TESTING`` cannot be set up) the ``TESTING`` environment
    variable decides (``testing()``); a given config without the setting is not a test run.

    Usage: ``if config.is_testing(): ...`` or ``config.is_testing(core.config)``
    """
    return _flag("TESTING", config, testing)


def is_debug(config: object | None = None) -> bool:
    """True in a debug run: ``config.DEBUG`` if a config object is given, else ``settings.DEBUG``.

    Falls back to ``debug()`` (the environment) like :func:`is_testing`.

    Usage: ``if config.is_debug(): ...``
    """
    return _flag("DEBUG", config, debug)


def is_development(config: object | None = None) -> bool:
    """DEBUG or TESTING: developer assertions are on, error reporting (sentry) and the last will are off.

    Usage: ``if config.is_development(self.config): raise AssertionError(...)``
    """
    return is_debug(config) or is_testing(config)


def is_bridged_master() -> bool:
    """True on the bridged master device (``COMPUTE_ID == 1``); reads the lazy settings, so overrides apply."""
    return bool(settings.COMPUTE_ID == 1)


def is_bridged_slave() -> bool:
    """True on a bridged slave device (``COMPUTE_ID != 1``)."""
    return not is_bridged_master()
