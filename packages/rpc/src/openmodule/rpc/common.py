"""``openmodule.rpc.common``: the RPC topic helpers, at the module path services import them from.

Usage::

    from openmodule.rpc.common import channel_to_request_topic, channel_to_response_topic

    channel_to_request_topic("backend")    # "rpc-req-backend"
"""

from __future__ import annotations

from openmodule.rpc._topics import (
    REQUEST_PREFIX,
    RESPONSE_PREFIX,
    channel_to_request_topic,
    channel_to_response_topic,
)

__all__ = ["REQUEST_PREFIX", "RESPONSE_PREFIX", "channel_to_request_topic", "channel_to_response_topic"]
