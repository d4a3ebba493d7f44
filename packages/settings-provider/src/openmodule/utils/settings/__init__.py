"""The site's central settings, cached: ``SettingsProvider`` over the ``settings`` RPC.

Usage::

    from openmodule.utils.settings import SettingsProvider

    settings_provider = SettingsProvider()
    gates = settings_provider.get("common/gates")
    mode = settings_provider.get("gate_control/mode", "gate_1")
"""

from __future__ import annotations

from openmodule.utils.settings._provider import CacheEntry, SettingsProvider, cache_key

__all__ = ["CacheEntry", "SettingsProvider", "cache_key"]
