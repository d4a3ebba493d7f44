"""Wire models of the central settings: the ``settings`` RPC (types ``get`` / ``get_many``) and the ``changed``
message on the ``settings`` topic.

Usage::

    from openmodule.models.settings import SettingsGetRequest, SettingsGetResponse

    core.rpc_client.rpc("settings", "get", SettingsGetRequest(key="common/gates"), SettingsGetResponse)
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openmodule.models.base import OpenModuleModel, ZMQMessage

__all__ = [
    "NO_SUCH_SETTING",
    "SETTINGS_CHANNEL",
    "SETTINGS_TOPIC",
    "SettingsChangedMessage",
    "SettingsGetManyRequest",
    "SettingsGetManyResponse",
    "SettingsGetRequest",
    "SettingsGetResponse",
    "SettingsGetResponseValue",
]

#: RPC channel of the settings service.
SETTINGS_CHANNEL = "settings"
#: Topic of ``SettingsChangedMessage``.
SETTINGS_TOPIC = "settings"
#: ``error`` of a response for a setting that is not set (not worth an error log).
NO_SUCH_SETTING = "no such setting"


class SettingsGetRequest(OpenModuleModel):
    """``settings``/``get``: one setting (``scope`` ``""`` for unscoped settings)."""

    key: str
    scope: str = ""


class SettingsGetResponseValue(OpenModuleModel):
    """One setting's answer: the JSON ``value`` when ``success``, else ``error``."""

    value: Any = None
    success: bool
    error: str | None = None


#: The response of ``settings``/``get``.
SettingsGetResponse = SettingsGetResponseValue


class SettingsGetManyRequest(OpenModuleModel):
    """``settings``/``get_many``: several settings of one scope."""

    key: list[str]
    scope: str = ""


class SettingsGetManyResponse(OpenModuleModel):
    """The response of ``settings``/``get_many``: one answer per requested key."""

    settings: dict[str, SettingsGetResponseValue] = Field(default_factory=dict)


class SettingsChangedMessage(ZMQMessage):
    """Published on ``settings`` when settings change; ``changed_keys`` are ``"<key>/<scope>"``."""

    type: str = "changed"
    changed_keys: list[str]
