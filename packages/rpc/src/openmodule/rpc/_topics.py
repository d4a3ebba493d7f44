"""RPC topic names: ``rpc-req-<channel>`` for requests, ``rpc-rep-<channel>`` for responses."""

from __future__ import annotations

REQUEST_PREFIX = "rpc-req-"
RESPONSE_PREFIX = "rpc-rep-"


def channel_to_request_topic(channel: str) -> str:
    """The topic requests of ``channel`` are published on. Usage: ``channel_to_request_topic("backend")``."""
    assert isinstance(channel, str), f"RPC channels must be str, got {type(channel).__name__}"
    return REQUEST_PREFIX + channel


def channel_to_response_topic(channel: str) -> str:
    """The topic responses of ``channel`` are published on. Usage: ``channel_to_response_topic("backend")``."""
    assert isinstance(channel, str), f"RPC channels must be str, got {type(channel).__name__}"
    return RESPONSE_PREFIX + channel
