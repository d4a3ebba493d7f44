"""Counting and rate-limited logging of dropped input: a flood of bad messages must not fill the disk.

Also the bounded, value-free description of invalid input that log lines and ``validation_error`` replies
carry: received data can hold personal data (plates, names) and can be of any size, so neither is echoed.
"""

from __future__ import annotations

import logging
import threading
import typing
from collections import Counter
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import core_schema

from openmodule.dispatcher._ratelimit import RateLimitedLog

#: Longest text (in characters) of a value a drop report quotes: topic and detail are cut to it.
MAX_DETAIL = 2000
#: Errors listed by ``invalid_input_summary`` (a reply); the rest are counted in one last entry.
MAX_ERRORS = 10
#: Errors a log line lists.
LOG_ERRORS = 3
#: Path elements of one error location, and characters of one element (dict keys come from the input).
MAX_LOC_ITEMS = 8
MAX_LOC_TEXT = 64
#: Characters of one error message.
MAX_MESSAGE = 200

# pydantic's own error types: their messages are built from the constraints (``max_length``, the expected
# literals), not from the input; these few quote the input or an exception text and keep only their type.
_KNOWN_TYPES = frozenset(typing.get_args(core_schema.ErrorType))
_QUOTING_TYPES = frozenset(
    {
        "value_error",  # "Value error, {the validator's text}": validators often put the value in it
        "assertion_error",
        "union_tag_invalid",  # names the received tag
        "uuid_parsing",  # names the offending character
        "no_such_attribute",
        "get_attribute_error",
        "iteration_error",
        "mapping_type",
        "datetime_object_invalid",
    }
)


# A validator's own text ("must be a base64 string") is what tells the caller what to fix: it is kept
# when none of the input's values appear in it (see _quotes_input).
_VALIDATOR_TYPES = frozenset({"value_error", "assertion_error"})
#: Input values looked at by ``_quotes_input``; beyond these (or a longer value) the text is left out.
_MAX_LEAVES = 200
_MAX_LEAF_TEXT = 100_000
#: A value longer than this is found in a text by any of its pieces of this length (a cut quote).
_PIECE = 8


def _folded(text: str) -> str:
    # Case and separators do not hide a value: "G ARIVO1", "garivo1" and "G-ARIVO-1" fold alike.
    return "".join(c for c in text.casefold() if c.isalnum())


def _leaf_texts(value: object) -> list[str] | None:
    """The folded texts of every scalar in ``value`` (any nesting); None if there are too many."""
    texts: list[str] = []
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if len(texts) + len(pending) > _MAX_LEAVES:
            return None
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
        elif item is not None and not isinstance(item, bool):
            text = clip(item, _MAX_LEAF_TEXT + 1)
            if len(text) > _MAX_LEAF_TEXT:
                return None
            texts.append(_folded(text))
    return texts


def _quotes_input(message: str, value: object) -> bool:
    """Might ``message`` (as a report would show it) quote any of ``value``? True when unsure."""
    texts = _leaf_texts(value)
    if texts is None:
        return True
    shown = _folded(clip(message, MAX_MESSAGE))
    pieces = {shown[i : i + _PIECE] for i in range(len(shown) - _PIECE + 1)}
    for text in texts:
        if len(text) <= _PIECE:
            if text and text in shown:
                return True
        elif any(text[i : i + _PIECE] in pieces for i in range(len(text) - _PIECE + 1)):
            return True
    return False


def clip(value: object, limit: int = MAX_DETAIL) -> str:
    """``str(value)`` cut to ``limit`` characters (with the full length said), for log lines and replies.

    Usage::  ``log.warning("no handler for type %s", clip(request_type, 64))``

    Never raises: an object whose ``__str__`` raises (an exception a handler made) is named by its type.
    """
    if isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except Exception:
            text = f"<{type(value).__name__} that cannot be shown>"
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def safe_repr(value: object, limit: int = MAX_DETAIL) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises (see ``clip``).

    Usage::  ``drops.drop("handler_error", topic, f"handler raised {safe_repr(exc)}")``
    """
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} that cannot be shown>"
    return clip(text, limit)


def _loc_item(item: Any) -> str | int:
    return item if type(item) is int else clip(item, MAX_LOC_TEXT)


def invalid_input_errors(exc: BaseException, max_errors: int = MAX_ERRORS) -> list[dict[str, Any]]:
    """Where and why input was invalid, as ``[{"loc": [...], "type": ..., "msg": ...}, ...]``, bounded in
    size and without the input: no values, no quoted exception texts (``msg`` where pydantic builds it from
    the field's constraints, and a validator's own text when none of the input's values appear in it).

    Usage::  ``invalid_input_errors(validation_error)``  ->  ``[{"loc": ["value"], "type": "int_parsing",
    "msg": "Input should be a valid integer, ..."}]``

    Any other exception (a validator raising ``KeyError``) is one entry of type ``conversion_error`` that
    names only the exception class.
    """
    if not isinstance(exc, ValidationError):
        return [
            {
                "loc": [],
                "type": "conversion_error",
                "msg": clip(f"{type(exc).__name__} raised while the input was converted", MAX_MESSAGE),
            }
        ]
    total = exc.error_count()
    result: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False, include_context=False, include_input=True)[:max_errors]:
        kind = error["type"]
        entry: dict[str, Any] = {
            "loc": [_loc_item(item) for item in error["loc"][:MAX_LOC_ITEMS]],
            "type": clip(kind, MAX_LOC_TEXT),
        }
        if kind in _KNOWN_TYPES and (
            kind not in _QUOTING_TYPES
            or (kind in _VALIDATOR_TYPES and not _quotes_input(error["msg"], error.get("input")))
        ):
            entry["msg"] = clip(error["msg"], MAX_MESSAGE)
        result.append(entry)
    if total > len(result):
        result.append(
            {"loc": [], "type": "more_errors", "msg": f"{total - len(result)} more errors not listed"}
        )
    return result


def invalid_input_summary(exc: BaseException, max_errors: int = MAX_ERRORS) -> str:
    """``invalid_input_errors(exc)`` as compact JSON text (a few KB at most): what log lines and the
    ``exception`` of a ``validation_error`` reply carry.

    Usage::  ``log.warning("invalid request: %s", invalid_input_summary(exc))``
    """
    return orjson.dumps(invalid_input_errors(exc, max_errors)).decode()


class DropLog:
    """Counts drops per reason and logs the first ``burst`` drops of each reason per ``interval`` seconds.

    A single bad message is always reported (with its reason); a flood adds at most ``burst`` lines per
    reason and interval, and the next report says how many were left out (a ``RateLimitedLog`` keyed by
    reason).

    Usage::

        drops = DropLog(logging.getLogger("x"))
        drops.drop("invalid_json", topic="healthz", detail="Expecting value")
        drops.counts["invalid_json"]   # 1

    Topic and detail are cut to ``MAX_DETAIL`` characters, so the log grows by a bounded number of bytes
    per reason and interval, whatever arrives.
    """

    def __init__(self, log: logging.Logger, interval: float = 10.0, burst: int = 5) -> None:
        self.log = log
        self.counts: Counter[str] = Counter()
        self._limit = RateLimitedLog(log, logging.ERROR, interval, burst)
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        """Seconds of one reporting interval (may be changed at any time)."""
        return self._limit.interval

    @interval.setter
    def interval(self, value: float) -> None:
        self._limit.interval = value

    @property
    def burst(self) -> int:
        """Reports per reason and interval (may be changed at any time)."""
        return self._limit.burst

    @burst.setter
    def burst(self, value: int) -> None:
        self._limit.burst = value

    def drop(
        self,
        reason: str,
        topic: str | None,
        detail: object,
        *,
        exc_info: bool = False,
        level: int = logging.ERROR,
    ) -> None:
        """Count a dropped message and report it unless its reason is over the limit."""
        with self._lock:
            self.counts[reason] += 1
        left_out = self._limit.admit(reason)
        if left_out is None:
            return
        self.log.log(
            level,
            "dropped message (%s) on topic %r: %s%s",
            reason,
            topic if topic is None else clip(topic, 200),
            clip(detail),
            self._limit.more(left_out),
            exc_info=exc_info,
        )

    def snapshot(self) -> dict[str, int]:
        """The drop counts per reason, as a plain dict."""
        with self._lock:
            return dict(self.counts)
