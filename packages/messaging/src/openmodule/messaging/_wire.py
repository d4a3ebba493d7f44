from __future__ import annotations

import logging
from typing import Any

import orjson
import zmq
from pydantic import BaseModel

from openmodule.dispatcher._drops import DropLog
from openmodule.models.base import OpenModuleModel, encode_json

log = logging.getLogger("openmodule.messaging")
#: Drops of ``receive_message_from_socket`` callers that pass no DropLog of their own.
receive_drops = DropLog(log)


def encode_message(message: BaseModel | dict[str, Any]) -> bytes:
    """The body frame for ``message``: a model's ``json_bytes()``, or a dict encoded the same way."""
    if type(message) is dict:  # RPC envelopes; pydantic's isinstance() checks are Python-level
        return encode_json(message)
    if isinstance(message, OpenModuleModel):  # the common case first: one attribute lookup less
        return bytes(message.json_bytes())
    if isinstance(message, BaseModel):
        json_bytes = getattr(message, "json_bytes", None)
        if json_bytes is not None:
            return bytes(json_bytes())
        return encode_json(message.model_dump(by_alias=True, exclude_none=True))
    assert isinstance(message, dict), f"message must be a model or a dict, not {type(message).__name__}"
    return encode_json(message)


def send_message(socket: zmq.Socket[Any], topic: str, message: BaseModel | dict[str, Any]) -> None:
    """Send ``[topic, json]`` on ``socket`` (not thread-safe: use ``Publisher`` for shared publishing)."""
    assert isinstance(topic, str), f"topic must be a str, not {type(topic).__name__}"
    socket.send_multipart([topic.encode("utf-8"), encode_message(message)])


def decode_frames(
    frames: list[bytes], drops: DropLog | None = None
) -> tuple[str, dict[str, Any]] | tuple[None, None]:
    """``(topic, dict)`` for a well-formed message; ``(None, None)`` (logged, counted) otherwise."""
    drops = drops or receive_drops
    if len(frames) != 2:
        preview = frames[0][:80].decode("utf-8", "backslashreplace") if frames else None
        drops.drop(
            "frame_count", preview, f"invalid number of parts: {len(frames)} (expected 2: topic, body)"
        )
        return None, None
    raw_topic, body = frames
    try:
        topic = raw_topic.decode("utf-8")
    except UnicodeDecodeError as exc:
        drops.drop("topic_not_utf8", raw_topic[:80].decode("utf-8", "backslashreplace"), exc)
        return None, None
    # The reports name the problem and the size, never the content (it can hold personal data).
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        drops.drop("invalid_json", topic, f"invalid json: {exc} (a body of {len(body)} bytes)")
        return None, None
    if not isinstance(data, dict):
        drops.drop(
            "not_an_object",
            topic,
            f"not a dict: JSON {type(data).__name__} instead of an object ({len(body)} bytes)",
        )
        return None, None
    return topic, data


def receive_message_from_socket(
    sub_socket: zmq.Socket[Any], drops: DropLog | None = None
) -> tuple[str, dict[str, Any]] | tuple[None, None]:
    """Receive one message (blocking); malformed input is logged, counted and returned as ``(None, None)``.

    Usage::  ``topic, message = receive_message_from_socket(sub)``
    """
    return decode_frames(sub_socket.recv_multipart(), drops)
