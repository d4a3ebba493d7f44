"""Stand-ins for the site's settings service: ``SettingsMocker`` (replaces a ``SettingsProvider``) and
``SettingsRPCMocker`` (serves the ``settings`` RPC on a real ``RPCServer``)."""

from __future__ import annotations

import enum
import time
from typing import Any

from pydantic import TypeAdapter, ValidationError
from settings_models.serialization import parse_setting_from_obj

from openmodule.models.settings import (
    NO_SUCH_SETTING,
    SETTINGS_CHANNEL,
    SettingsGetManyRequest,
    SettingsGetManyResponse,
    SettingsGetRequest,
    SettingsGetResponse,
    SettingsGetResponseValue,
)

__all__ = ["SettingsMocker", "SettingsRPCMocker", "SettingsDict"]

SettingsDict = dict[tuple[str, str], Any]
_JSON: TypeAdapter[Any] = TypeAdapter(Any)  # values may be models (Gate(...)): sent as their JSON form


def _check_settings(settings: SettingsDict, allow_unknown_settings: bool, allow_wrong_values: bool) -> None:
    for (key, _scope), value in settings.items():
        _check_setting(key, value, allow_unknown_settings, allow_wrong_values)


def _check_setting(key: str, value: Any, allow_unknown_settings: bool, allow_wrong_values: bool) -> None:
    try:
        parse_setting_from_obj(key, value)
    except KeyError:
        # settings_models knows no model for the key
        if not allow_unknown_settings:  # an explicit raise: pytest would append its rewrite to an assert
            raise AssertionError(f"Unknown setting {key}")
    except (ValidationError, ValueError):
        if not allow_wrong_values:
            raise


class SettingsMocker:
    """Replaces a ``SettingsProvider`` in tests: values from a dict ``{(key, scope): raw value}``.

    Values are checked against ``settings_models`` when given (``AssertionError`` for a key it does not know
    unless ``allow_unknown_settings``; its ``ValidationError`` for a wrong value unless ``allow_wrong_values``).
    ``get`` / ``get_many`` parse like the provider but return ``None`` for missing or unparsable values; set
    ``exception`` to make them raise it.

    Usage::

        mocker = SettingsMocker({("common/currency", ""): "EUR"})
        service = MyService(settings=mocker)
        mocker.change_setting("CHF", "common/currency")
    """

    def __init__(
        self, settings: SettingsDict, allow_unknown_settings: bool = False, allow_wrong_values: bool = False
    ) -> None:
        _check_settings(settings, allow_unknown_settings, allow_wrong_values)
        self.settings: SettingsDict = dict(settings)
        self.allow_unknown_settings = allow_unknown_settings
        self.allow_wrong_values = allow_wrong_values
        self.exception: BaseException | None = None

    def get(self, key: str, scope: str = "", custom_type: Any = None) -> Any:
        if self.exception is not None:
            raise self.exception
        return self._parsed(key, scope, custom_type)

    def get_many(self, keys_with_types: dict[str, Any], scope: str = "") -> dict[str, Any]:
        if self.exception is not None:
            raise self.exception
        return {key: self._parsed(key, scope, custom_type) for key, custom_type in keys_with_types.items()}

    def _parsed(self, key: str, scope: str, custom_type: Any) -> Any:
        if (key, scope) not in self.settings:
            return None
        try:
            return parse_setting_from_obj(key, self.settings[(key, scope)], custom_type)
        except (KeyError, ValueError, TypeError):
            return None

    def add_setting(self, value: Any, key: str, scope: str = "") -> None:
        _check_setting(key, value, self.allow_unknown_settings, self.allow_wrong_values)
        self.settings[(key, scope)] = value

    def change_setting(self, value: Any, key: str, scope: str = "") -> None:
        self.add_setting(value, key, scope)

    def remove_setting(self, key: str, scope: str = "") -> None:
        self.settings.pop((key, scope), None)


class SettingsRPCMocker:
    """Serves ``settings``/``get`` and ``settings``/``get_many`` from ``settings`` on ``rpc_server``.

    ``result_mode`` picks the answer: ``ok``; ``error`` (the handler raises); ``timeout`` (the handler sleeps
    1 s, then raises, so a caller with a shorter timeout times out); ``fail`` (``success: false`` with
    ``error_code``); ``first_fail`` (only the first key of a ``get_many`` fails). A missing setting fails with
    ``error_code`` (``"no such setting"``) in every mode.

    Usage::

        mocker = SettingsRPCMocker(rpc_server, {("common/gates", ""): {...}})
        mocker.result_mode = SettingsRPCMocker.ResultMode.fail
    """

    class ResultMode(enum.StrEnum):
        ok = "ok"
        error = "error"
        timeout = "timeout"
        fail = "fail"
        first_fail = "first_fail"

    def __init__(
        self,
        rpc_server: Any,
        settings: SettingsDict,
        allow_unknown_settings: bool = False,
        allow_wrong_values: bool = False,
    ) -> None:
        _check_settings(settings, allow_unknown_settings, allow_wrong_values)
        self.settings: SettingsDict = dict(settings)
        self.result_mode = SettingsRPCMocker.ResultMode.ok
        self.error_code = NO_SUCH_SETTING
        rpc_server.register_handler(
            SETTINGS_CHANNEL, "get", SettingsGetRequest, SettingsGetResponse, self._get, register_schema=False
        )
        rpc_server.register_handler(
            SETTINGS_CHANNEL,
            "get_many",
            SettingsGetManyRequest,
            SettingsGetManyResponse,
            self._get_many,
            register_schema=False,
        )

    def _misbehave(self) -> None:
        if self.result_mode == SettingsRPCMocker.ResultMode.error:
            raise Exception("settings mocker: result_mode error")
        if self.result_mode == SettingsRPCMocker.ResultMode.timeout:
            time.sleep(1)
            raise Exception("settings mocker: result_mode timeout")

    def _value(self, key: str, scope: str, fail: bool) -> SettingsGetResponseValue:
        if fail or (key, scope) not in self.settings:
            return SettingsGetResponseValue(success=False, error=self.error_code)
        return SettingsGetResponseValue(
            success=True, value=_JSON.dump_python(self.settings[(key, scope)], mode="json")
        )

    def _get(self, request: SettingsGetRequest, _: Any = None) -> SettingsGetResponseValue:
        """One setting, answered from the mocker's dict."""
        self._misbehave()
        return self._value(request.key, request.scope, self.result_mode == SettingsRPCMocker.ResultMode.fail)

    def _get_many(self, request: SettingsGetManyRequest, _: Any = None) -> SettingsGetManyResponse:
        """Several settings, answered from the mocker's dict."""
        self._misbehave()
        mode = self.result_mode
        return SettingsGetManyResponse(
            settings={
                key: self._value(
                    key,
                    request.scope,
                    mode == SettingsRPCMocker.ResultMode.fail
                    or (mode == SettingsRPCMocker.ResultMode.first_fail and index == 0),
                )
                for index, key in enumerate(request.key)
            }
        )
