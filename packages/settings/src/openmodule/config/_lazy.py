"""The lazy, overridable ``settings`` object."""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import threading
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeVar

from openmodule.config._functions import settings_module
from openmodule.config._global import global_defaults

T = TypeVar("T")

_EMPTY = object()


class SettingsModuleNotFound(ModuleNotFoundError):
    """The settings module could not be imported."""


class Settings:
    """The global defaults, then every upper-case variable of the settings module (the module wins).

    ``LazySettings`` wraps one (``settings._wrapped``); ``is_overridden`` asks the owning ``LazySettings``.
    """

    def __init__(self, module: ModuleType | Any | None, owner: LazySettings | None = None) -> None:
        for name, value in global_defaults().items():
            setattr(self, name, value)
        if module is not None:
            for name in dir(module):
                if name.isupper() and not name.startswith("_"):
                    setattr(self, name, getattr(module, name))
        self.SETTINGS_MODULE = module
        self._owner = owner

    def is_overridden(self, name: str) -> bool:
        """True while ``name`` has an active override (``override_settings`` / ``override_context``).

        Usage: ``settings._wrapped.is_overridden("NAME")`` (the same as ``settings.is_overridden("NAME")``)
        """
        return self._owner is not None and self._owner.is_overridden(name)

    def __repr__(self) -> str:
        module = getattr(self.SETTINGS_MODULE, "__name__", self.SETTINGS_MODULE)
        return f'<Settings "{module}">'


class LazySettings:
    """Sets itself up from the settings module on first use.

    Usage::

        from openmodule.config import settings
        settings.NAME
        settings.configure(my_config_module)   # instead of importing SETTINGS_MODULE / config
        with override_context(NAME="x"): ...
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_wrapped", _EMPTY)
        object.__setattr__(self, "_cache", {})
        # name -> stack of values; the bottom is the base value once settings are set up.
        object.__setattr__(self, "_overrides", {})
        object.__setattr__(self, "_lock", threading.RLock())

    # -- set-up -------------------------------------------------------------------------------------
    def _setup(self, module: ModuleType | Any | None = None) -> None:
        with self._lock:
            if self._wrapped is not _EMPTY:
                return
            if module is None:
                name = settings_module()
                try:
                    module = importlib.import_module(name)
                except ModuleNotFoundError as exc:
                    if exc.name is not None and name.startswith(exc.name):
                        raise SettingsModuleNotFound(
                            f"settings module {name!r} was not found: create it (usually src/config.py), "
                            "set SETTINGS_MODULE to an importable module, or call settings.configure(module)"
                        ) from exc
                    raise
            wrapped = Settings(module, owner=self)
            for name, stack in self._overrides.items():
                if not stack:
                    continue
                base = getattr(wrapped, name, _EMPTY)
                stack.insert(0, base)
                setattr(wrapped, name, stack[-1])
            object.__setattr__(self, "_wrapped", wrapped)
            self._cache.clear()

    @property
    def configured(self) -> bool:
        return self._wrapped is not _EMPTY

    def configure(self, module: ModuleType | Any) -> None:
        """Set up from ``module`` instead of importing the settings module."""
        # openmodule reads the one global object; a second one would be configured without any effect
        assert self is settings, (
            "Do not use multiple settings objects: configure openmodule.config.settings, the one openmodule reads"
        )
        assert self._wrapped is _EMPTY, "Settings are already configured: call settings.reset() first"
        self._setup(module)

    def reset(self) -> None:
        """Forget the configuration and every override; the next access sets up again."""
        with self._lock:
            object.__setattr__(self, "_wrapped", _EMPTY)
            self._overrides.clear()
            self._cache.clear()

    # -- attribute access ---------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        cache = self._cache
        try:
            return cache[name]
        except KeyError:
            pass
        if self._wrapped is _EMPTY:
            self._setup()
        value = getattr(self._wrapped, name)
        cache[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if self._wrapped is _EMPTY:
            self._setup()
        self._cache.pop(name, None)
        setattr(self._wrapped, name, value)

    def __delattr__(self, name: str) -> None:
        if self._wrapped is _EMPTY:
            self._setup()
        self._cache.pop(name, None)
        delattr(self._wrapped, name)

    def __dir__(self) -> list[str]:
        if self._wrapped is _EMPTY:
            self._setup()
        return sorted(set(dir(self._wrapped)))

    def __repr__(self) -> str:
        if self._wrapped is _EMPTY:
            return "<LazySettings [Unevaluated]>"
        module = getattr(self._wrapped.SETTINGS_MODULE, "__name__", self._wrapped.SETTINGS_MODULE)
        return f'<LazySettings "{module}">'

    # -- overrides ----------------------------------------------------------------------------------
    def override(self, **options: Any) -> None:
        """Push a value for each setting; the innermost override wins until it is cleared."""
        with self._lock:
            for name, value in options.items():
                stack = self._overrides.setdefault(name, [])
                if self._wrapped is not _EMPTY and not stack:
                    stack.append(getattr(self._wrapped, name, _EMPTY))
                stack.append(value)
                if self._wrapped is not _EMPTY:
                    self._cache.pop(name, None)
                    setattr(self._wrapped, name, value)

    def clear_override(self, **options: Any) -> None:
        """Pop the innermost override of each named setting (only the keys matter). Idempotent."""
        with self._lock:
            for name in options:
                stack = self._overrides.get(name)
                if not stack:
                    continue
                stack.pop()
                if self._wrapped is _EMPTY:
                    if not stack:
                        del self._overrides[name]
                    continue
                self._cache.pop(name, None)
                if len(stack) <= 1:
                    base = stack[0] if stack else _EMPTY
                    del self._overrides[name]
                    if base is _EMPTY:
                        if hasattr(self._wrapped, name):
                            delattr(self._wrapped, name)
                    else:
                        setattr(self._wrapped, name, base)
                else:
                    setattr(self._wrapped, name, stack[-1])

    def is_overridden(self, name: str) -> bool:
        """True while ``name`` has an active override. Usage: ``settings.is_overridden("COMPUTE_ID")``"""
        stack = self._overrides.get(name)
        if not stack:
            return False
        return self._wrapped is _EMPTY or len(stack) > 1


settings = LazySettings()


@contextlib.contextmanager
def override_context(**options: Any) -> Iterator[None]:
    """Override settings inside a ``with`` block; restored even when the block raises."""
    settings.override(**options)
    try:
        yield
    finally:
        settings.clear_override(**options)


def override_settings(**options: Any) -> Callable[[T], T]:
    """Decorator overriding settings for a function, or for setUp/test/tearDown of a TestCase class.

    Usage: ``@override_settings(COMPUTE_ID=2)``
    """

    def decorate(target: T) -> T:
        if inspect.isclass(target):
            original_run = target.run  # type: ignore[attr-defined]

            @functools.wraps(original_run)
            def run(self: Any, *args: Any, **kwargs: Any) -> Any:
                with override_context(**options):
                    return original_run(self, *args, **kwargs)

            target.run = run  # type: ignore[attr-defined]
            return target
        if callable(target):
            if inspect.iscoroutinefunction(target):

                @functools.wraps(target)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    with override_context(**options):
                        return await target(*args, **kwargs)

                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(target)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with override_context(**options):
                    return target(*args, **kwargs)

            return wrapper  # type: ignore[return-value]
        raise TypeError(f"override_settings decorates a class or a callable, not {type(target).__name__}")

    return decorate


REQUIRED_SETTINGS = ("NAME", "RESOURCE", "VERSION", "DEBUG", "TESTING")


def validate_config_module(config: object) -> None:
    """Check a config object has what ``init_openmodule`` needs; raise naming what is missing."""
    missing = [name for name in REQUIRED_SETTINGS if not hasattr(config, name)]
    if missing:
        raise AssertionError(
            f"config is missing required setting(s) {', '.join(missing)}: define them in the settings "
            "module or use openmodule.config.settings"
        )
    for legacy in ("BROKER_PUB_PORT", "BROKER_SUB_PORT"):
        if hasattr(config, legacy):
            warnings.warn(
                f"{legacy} is deprecated: set BROKER_PUB / BROKER_SUB endpoints instead",
                DeprecationWarning,
                stacklevel=2,
            )
