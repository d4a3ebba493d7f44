from __future__ import annotations

from typing import Protocol

__all__ = ["ServiceConfig"]


class ServiceConfig(Protocol):
    """The configuration of a service, as openmodule reads it: ``openmodule.config.settings``, a settings
    module, or any object with these attributes (``validate_config_module`` checks the first five at run
    time; every core connects to the two broker endpoints).

    Other settings (``LOG_LEVEL``, ``DATABASE_FOLDER``, ...) are read where they are needed.

    Usage::

        def start(config: ServiceConfig) -> None:
            log.info("starting %s %s", config.NAME, config.VERSION)

        start(settings)
    """

    @property
    def NAME(self) -> str: ...

    @property
    def VERSION(self) -> str: ...

    @property
    def RESOURCE(self) -> str: ...

    @property
    def DEBUG(self) -> bool: ...

    @property
    def TESTING(self) -> bool: ...

    @property
    def BROKER_PUB(self) -> str: ...

    @property
    def BROKER_SUB(self) -> str: ...
