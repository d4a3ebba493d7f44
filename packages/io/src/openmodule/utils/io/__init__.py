"""Listen to IO pins: the last state of every pin on the ``io`` topic and callbacks on its edges.

Usage::

    from openmodule.utils.io import IoListener

    io = IoListener(core.messages)
    io.add_listener_edge_rising("gate_1_button", lambda state: print("pressed", state.pin))
"""

from __future__ import annotations

from openmodule.utils.io._listener import IoCallback, IoListener

__all__ = ["IoCallback", "IoListener"]
