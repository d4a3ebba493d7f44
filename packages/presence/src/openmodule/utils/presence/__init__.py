"""Helper for listening to presence messages: per-gate vehicle state and enter/leave/forward/backward/change
events with the invariant that every ``on_enter`` is followed by exactly one ``on_leave`` of the same vehicle.

Usage::

    from openmodule.utils.presence import PresenceListener

    presence_listener = PresenceListener(core.messages)
    presence_listener.on_enter.append(some_function)   # some_function(vehicle, gateway)
"""

from __future__ import annotations

from openmodule.utils.presence._listener import PresenceListener

__all__ = ["PresenceListener"]
