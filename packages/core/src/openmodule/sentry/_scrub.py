"""Removal of personal data (licence plates, medium ids, ...) from Sentry events, transactions and breadcrumbs.

Scrubbing by key names alone misses most leaks: a plate sits in the ``repr`` of a model in a frame variable,
in an exception text, in an f-string log message, under a camelCase key or in a span description. So the
scrubber works on values as well:

1. **Keys.** A value under a personal key is replaced with ``"[Filtered]"``. Keys are compared by their words,
   so ``licensePlate``, ``license_plate``, ``LicensePlate`` and ``license-plate`` are one key, and any key with
   a personal word (``plate``, ``lpr``, ``medium``, ``vehicle``, ...) counts (``entry_plate``, ``lprMedium``).
2. **Values.** Before the event leaves, the Python objects behind it are searched for personal values: the
   local variables of every frame of the exception's traceback, the exception itself, the log record, and the
   frames of the thread reporting the event. Values under personal names and the ids of media (any class
   whose name ends in ``Medium``, see :data:`PERSONAL_DATA_TYPES`) are collected, and every occurrence of them
   in any string of the event is replaced - with or without spaces and dashes (``G ARIVO1``, ``GARIVO1``,
   ``G-ARIVO1``), in any letter case. Values seen recently are remembered (bounded) for events whose frames
   are gone, e.g. a transaction finishing after the handler returned.
3. **Patterns.** Whatever was not found as an object is caught by its shape: ``plate='...'`` and
   ``"licensePlate": "..."`` (reprs, JSON), ``LPRMedium(id='...')`` and ``lpr:[A]...`` (model reprs and
   ``str()``).

Usage: these functions are installed by :func:`openmodule.sentry.init_sentry`; call them yourself only to
scrub an event by hand: ``scrub_event(event, {"exc_info": sys.exc_info()})``.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import logging
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import Enum
from typing import Any

__all__ = [
    "FILTERED",
    "PERSONAL_DATA_KEYS",
    "PERSONAL_DATA_TYPES",
    "PERSONAL_DATA_WORDS",
    "is_personal_key",
    "register_personal_data_keys",
    "register_personal_data_type",
    "scrub_breadcrumb",
    "scrub_event",
    "scrub_log",
    "scrub_transaction",
]

FILTERED = "[Filtered]"

#: Keys (compared by their words, ignoring case and ``_``/``-``/camelCase) whose values are personal data.
PERSONAL_DATA_KEYS: set[str] = {
    "plate",
    "plates",
    "license_plate",
    "licence_plate",
    "lpr",
    "lp",
    "lpr_id",
    "plate_raw",
    "vehicle_id",
    "vehicle_ids",
    "vehicleid",
    "medium",
    "medium_id",
    "media",
    "qr",
    "qr_code",
    "nfc",
    "pin",
    "card",
    "card_number",
    "email",
    "phone",
    "phone_number",
    "customer",
    "customer_name",
    "first_name",
    "last_name",
    "address",
}

#: Words that make any key personal wherever they appear in it (``entry_plate``, ``lprMedium``, ``vehicles``).
PERSONAL_DATA_WORDS: set[str] = {
    "plate",
    "plates",
    "lpr",
    "medium",
    "media",
    "nfc",
    "qr",
    "pin",
    "vehicle",
    "vehicles",
    "licenseplate",
    "licenceplate",
}

#: Class names (matched against the whole MRO, so subclasses count) -> attributes holding personal data.
#: ``Medium`` covers ``LPRMedium``, ``QRMedium``, ... of ``openmodule.models.vehicle`` without importing it.
PERSONAL_DATA_TYPES: dict[str, tuple[str, ...]] = {
    "Medium": ("id", "binary"),
    "LPRAlternative": ("plate",),
    "Vehicle": ("id",),
}

#: ``type`` values of a dict that is a dumped medium (``{"id": ..., "type": "lpr"}``): its ``id`` is personal.
_MEDIUM_TYPES = frozenset({"lpr", "nfc", "pin", "qr", "regex"})

#: Keys whose values are never personal themselves when a personal parent is searched generically.
_NEUTRAL_KEYS = frozenset(
    {
        "type",
        "country",
        "code",
        "state",
        "confidence",
        "make",
        "model",
        "make_confidence",
        "model_confidence",
        "enter_direction",
        "direction",
        "gate",
        "name",
        "timestamp",
        "status",
        "category",
        "level",
    }
)

#: Event fields that are identifiers or metadata of the SDK, never free text: value redaction skips them so a
#: short medium id can never corrupt a trace id.
_STRUCTURAL_KEYS = frozenset(
    {
        "event_id",
        "trace_id",
        "span_id",
        "parent_span_id",
        "timestamp",
        "start_timestamp",
        "platform",
        "level",
        "release",
        "environment",
        "sdk",
        "modules",
        "type",
        "abs_path",
        "filename",
        "module",
        "function",
        "package",
        "lineno",
        "colno",
        "in_app",
        "op",
        "origin",
        "status",
        "sampled",
        "thread.id",
        "time_unix_nano",
        "severity_text",
        "severity_number",
    }
)

_MIN_VALUE_CHARS = 3  # shorter values are filtered where their key says so, but not searched for in text
_MAX_NODES_EVENT = 20_000  # objects visited while collecting values for one event
_MAX_NODES_CRUMB = 80  # ... for one breadcrumb (every log line at INFO and above: kept cheap)
_MAX_DEPTH = 6
_CRUMB_DEPTH = 3  # a breadcrumb looks at the caller's variables and their media, not deep into self
_MAX_ITEMS = 200  # items of one collection looked at
_MAX_VALUES = 2_000  # personal values searched for in one event
_EVENT_FRAMES = 40  # frames of the reporting thread searched for an event
_CRUMB_FRAMES = 1  # ... for a breadcrumb: the log call's own frame
_RECENT_SIZE = 256  # values remembered for later events
_RECENT_SECONDS = 600.0

_lock = threading.Lock()
_normalized_keys: frozenset[str] = frozenset()
_normalized_from = -1
_recent: collections.OrderedDict[str, float] = collections.OrderedDict()

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SKIP_TYPES = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
    types.TracebackType,
    type,
    threading.Thread,
    logging.Logger,
    logging.Handler,
)
# modules whose frames are the reporting machinery itself, not the code that reported
_OWN_MODULES = ("sentry_sdk", "logging", "openmodule.sentry", "threading", "concurrent.futures")


# -- keys -----------------------------------------------------------------------------------------------------
def _words(key: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(key)]


def _keys() -> frozenset[str]:
    global _normalized_keys, _normalized_from
    # PERSONAL_DATA_KEYS is a public set services may add to directly: rebuild when it grew
    if _normalized_from != len(PERSONAL_DATA_KEYS):
        with _lock:
            _normalized_keys = frozenset("".join(_words(k)) for k in list(PERSONAL_DATA_KEYS))
            _normalized_from = len(PERSONAL_DATA_KEYS)
            _key_cache.clear()
    return _normalized_keys


_key_cache: dict[str, bool] = {}


def is_personal_key(key: str) -> bool:
    """Whether values under ``key`` are personal data: ``licensePlate``, ``lpr_medium``, ``vehicle_ids``, ...

    Usage: ``is_personal_key("entryPlate")  # True``
    """
    if _normalized_from == len(PERSONAL_DATA_KEYS):
        cached = _key_cache.get(key)
        if cached is not None:
            return cached
    keys = _keys()
    words = _words(key)
    result = "".join(words) in keys or any(w in PERSONAL_DATA_WORDS for w in words)
    if len(_key_cache) > 10_000:  # keys come from data too: keep the cache bounded
        _key_cache.clear()
    _key_cache[key] = result
    return result


def register_personal_data_keys(*keys: str | Iterable[str]) -> None:
    """Add field names whose values must never leave the device in an error report.

    Usage: ``register_personal_data_keys("ticket_code")`` or ``register_personal_data_keys(Model.model_fields)``
    """
    with _lock:
        for key in keys:
            if isinstance(key, str):
                PERSONAL_DATA_KEYS.add(key.lower())
            else:
                PERSONAL_DATA_KEYS.update(k.lower() for k in key)


def register_personal_data_type(cls: type | str, *attributes: str) -> None:
    """Declare that instances of ``cls`` (and its subclasses) hold personal data in ``attributes``.

    Usage: ``register_personal_data_type(Ticket, "code", "holder")``
    """
    name = cls if isinstance(cls, str) else cls.__name__
    with _lock:
        PERSONAL_DATA_TYPES[name] = tuple(dict.fromkeys((*PERSONAL_DATA_TYPES.get(name, ()), *attributes)))
        _type_cache.clear()


def _personal_attributes(cls: type) -> frozenset[str]:
    cached = _type_cache.get(cls)
    if cached is not None and _type_cache_from == len(PERSONAL_DATA_TYPES):
        return cached
    found: set[str] = set()
    for base in cls.__mro__:
        attributes = PERSONAL_DATA_TYPES.get(base.__name__)
        if attributes is None and base.__name__.endswith("Medium"):
            attributes = PERSONAL_DATA_TYPES.get("Medium")
        if attributes is not None:
            found.update(attributes)
    _remember_type(cls, frozenset(found))
    return frozenset(found)


_type_cache: dict[type, frozenset[str]] = {}
_type_cache_from = -1


def _remember_type(cls: type, attributes: frozenset[str]) -> None:
    global _type_cache_from
    if _type_cache_from != len(PERSONAL_DATA_TYPES) or len(_type_cache) > 4096:
        _type_cache.clear()
        _type_cache_from = len(PERSONAL_DATA_TYPES)
    _type_cache[cls] = attributes


# -- collecting personal values from objects ------------------------------------------------------------------
_LEAF_TYPES = (bool, float, complex, Enum, type(None))
_EXACT_LEAVES = frozenset({bool, float, type(None)})
_EXACT_SEQUENCES = frozenset({list, tuple, set, frozenset})
_BYTES_TYPES = (bytes, bytearray, memoryview)
_SEQUENCE_TYPES = (list, tuple, set, frozenset, collections.deque)


class _Collector:
    """Walks Python objects breadth first (bounded) and collects the personal strings in them.

    Breadth first: the budget goes to what is close to the frame (arguments, their media) before the depths
    of ``self``. A value is personal by the name it is stored under (a local, a dict key, an attribute), by
    the type holding it (:data:`PERSONAL_DATA_TYPES`), or because data under a personal name is personal down
    to its leaves (except fields naming kinds, like ``type``).
    """

    def __init__(self, budget: int, max_depth: int = _MAX_DEPTH) -> None:
        self.values: set[str] = set()
        self.budget = budget
        self.max_depth = max_depth
        self._seen: set[int] = set()
        self._queue: collections.deque[tuple[Any, bool, int]] = collections.deque()

    def add(self, value: str) -> None:
        value = value.strip()
        if len(self.values) < _MAX_VALUES and len(_folded(value)) >= _MIN_VALUE_CHARS:
            self.values.add(value)

    def visit(self, value: Any, personal: bool = False, depth: int = 0) -> None:
        """Collect from ``value`` and everything reachable from it (within the budget)."""
        self._queue.append((value, personal, depth))
        self._run()

    def frame(self, frame: types.FrameType) -> None:
        """Collect from the local variables of ``frame`` (module level code has the module's globals as
        locals: those are not the reporting code's data and are skipped)."""
        if frame.f_code.co_name == "<module>" or frame.f_locals is frame.f_globals:
            return
        try:
            local_vars = list(frame.f_locals.items())
        except Exception:
            return
        for name, value in local_vars:
            self._queue.append((value, is_personal_key(name), 1))
        self._run()

    def _run(self) -> None:
        # exact type checks first: this runs for every log line, and ABC isinstance checks are slow
        queue = self._queue
        seen = self._seen
        while queue and self.budget > 0:
            value, personal, depth = queue.popleft()
            self.budget -= 1
            kind = type(value)
            if kind is str:
                if personal:
                    self.add(value)
                continue
            if kind in _EXACT_LEAVES:
                continue
            if kind is int:
                if personal and abs(value) >= 1000:
                    self.add(str(value))
                continue
            if depth >= self.max_depth:
                continue
            if kind is dict:
                if id(value) not in seen:
                    seen.add(id(value))
                    self._mapping(value, personal, depth + 1)
                continue
            if kind in _EXACT_SEQUENCES:
                if id(value) not in seen:
                    seen.add(id(value))
                    queue.extend((item, personal, depth + 1) for item in itertools.islice(value, _MAX_ITEMS))
                continue
            self._other(value, personal, depth)
        queue.clear()

    def _other(self, value: Any, personal: bool, depth: int) -> None:
        if isinstance(value, _LEAF_TYPES):  # enum values name kinds, never persons
            return
        if isinstance(value, str):
            if personal:
                self.add(str(value))
            return
        if isinstance(value, int):
            if personal and abs(value) >= 1000:
                self.add(str(value))
            return
        if isinstance(value, _BYTES_TYPES):
            if personal:
                self.add(bytes(value[:256]).decode("utf-8", "replace"))
            return
        if isinstance(value, _SKIP_TYPES) or id(value) in self._seen:
            return
        self._seen.add(id(value))
        depth += 1
        queue = self._queue
        if isinstance(value, Mapping):
            self._mapping(value, personal, depth)
        elif isinstance(value, _SEQUENCE_TYPES):
            queue.extend((item, personal, depth) for item in itertools.islice(value, _MAX_ITEMS))
        else:
            if isinstance(value, BaseException):
                queue.extend((arg, personal, depth) for arg in value.args[:_MAX_ITEMS])
            # an object's attributes are personal by their own name or its type, never because the
            # variable holding it has a personal name: a "vehicle_handler" object's topic is not personal
            marked = _personal_attributes(type(value))
            for name, child in _attributes(value):
                queue.append((child, name in marked or is_personal_key(name), depth))

    def _mapping(self, value: Mapping[Any, Any], personal: bool, depth: int) -> None:
        try:
            items = list(itertools.islice(value.items(), _MAX_ITEMS))
        except Exception:  # a mapping with a broken items(): nothing to learn from it
            return
        medium = "id" in value and str(_plain(value.get("type"))).lower() in _MEDIUM_TYPES
        for k, child in items:
            if isinstance(k, str):
                child_personal = (
                    is_personal_key(k) or (medium and k == "id") or (personal and k not in _NEUTRAL_KEYS)
                )
                self._queue.append((child, child_personal, depth))
            else:
                self._queue.append((child, personal, depth))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _attributes(value: Any) -> Iterator[tuple[str, Any]]:
    # pydantic models and plain objects: their instance dict; dataclasses with slots: their fields
    try:
        attributes = vars(value)
    except TypeError:
        attributes = None
    if isinstance(attributes, dict):
        yield from itertools.islice(attributes.items(), _MAX_ITEMS)
        return
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value)[:_MAX_ITEMS]:
            yield field.name, getattr(value, field.name, None)
        return
    for name in itertools.islice(getattr(type(value), "__slots__", ()), _MAX_ITEMS):
        if isinstance(name, str) and hasattr(value, name):
            yield name, getattr(value, name)


_own_codes: dict[types.CodeType, bool] = {}


def _own_frame(frame: types.FrameType) -> bool:
    code = frame.f_code
    own = _own_codes.get(code)
    if own is None:
        module = frame.f_globals.get("__name__", "")
        own = isinstance(module, str) and any(module == m or module.startswith(m + ".") for m in _OWN_MODULES)
        if len(_own_codes) > 10_000:
            _own_codes.clear()
        _own_codes[code] = own
    return own


def _caller_frames(limit: int) -> Iterator[types.FrameType]:
    """The frames of the reporting thread outside logging and the SDK, innermost first."""
    frame: types.FrameType | None = sys._getframe(1)
    found = 0
    while frame is not None and found < limit:
        if not _own_frame(frame):
            found += 1
            yield frame
        frame = frame.f_back


def _traceback_frames(exc_info: Any) -> Iterator[types.FrameType]:
    exc = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else None
    seen: set[int] = set()
    while isinstance(exc, BaseException) and id(exc) not in seen and len(seen) < 10:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__


def _collect(
    hint: Mapping[str, Any] | None, budget: int, frames: int, max_depth: int = _MAX_DEPTH
) -> set[str]:
    collector = _Collector(budget, max_depth)
    hint = hint or {}
    exc_info = hint.get("exc_info")
    if exc_info:
        collector.visit(exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else None)
        for frame in _traceback_frames(exc_info):
            collector.frame(frame)
    record = hint.get("log_record")
    if isinstance(record, logging.LogRecord):
        collector.visit(record.args)
        for name, value in vars(record).items():
            if name not in _LOG_RECORD_FIELDS:  # extra={...} of the log call
                collector.visit(value, is_personal_key(name), 1)
    for frame in _caller_frames(frames):
        collector.frame(frame)
    return collector.values


_LOG_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


# -- the recently seen values -----------------------------------------------------------------------------------
def _remember(values: set[str]) -> set[str]:
    """Store ``values`` as recently seen; return them plus every value still remembered."""
    now = time.monotonic()
    with _lock:
        for value in values:
            _recent[value] = now
            _recent.move_to_end(value)
        while _recent and (
            len(_recent) > _RECENT_SIZE or now - next(iter(_recent.values())) > _RECENT_SECONDS
        ):
            _recent.popitem(last=False)
        return values | set(_recent)


# -- redacting strings ------------------------------------------------------------------------------------------
_SEPARATOR = r"[\s\-_.:/·]?"
_QUOTED = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
_KWARG = re.compile(rf"\b([A-Za-z_][A-Za-z0-9_]*)=({_QUOTED}|-?\d+)")
_JSON_PAIR = re.compile(rf"(['\"])([A-Za-z_][\w\- ]*)\1(\s*:\s*)({_QUOTED}|-?\d+)")
_MEDIUM_REPR = re.compile(rf"\b(\w*Medium\(\s*id=)({_QUOTED})")
_VEHICLE_REPR = re.compile(r"\b(Vehicle\(\s*id=)(\d+)")
# str() of media: "lpr:[A]G ARIVO1" (a plate: words of capitals and digits), "qr:QR-7731..." (no spaces)
_LPR_STR = re.compile(r"\b(lpr:(?:\[[^\]\s]{0,12}\])?)([\w\-]+(?: [A-Z0-9ÄÖÜ][\w\-]*){0,3})")
_MEDIUM_STR = re.compile(r"\b((?:qr|nfc|pin|regex):)([^\s,;)>'\"\[\]][^\s,;)>'\"\]]*)")


_NOT_ALNUM = re.compile(r"[\W_]+")
_PLAIN_KEY = re.compile(r"[a-z_.\-]*")
_FOLDED_FILTERED = "filtered"  # already scrubbed: never a value to search for


def _folded(text: str) -> str:
    """Letters and digits only, lower case: what a value looks like with any separators and case."""
    return _NOT_ALNUM.sub("", text.lower())


@functools.lru_cache(maxsize=64)
def _value_pattern(values: frozenset[str]) -> re.Pattern[str] | None:
    alternatives = []
    for value in sorted(values, key=len, reverse=True):
        chars = [c for c in value if c.isalnum()]
        if len(chars) < _MIN_VALUE_CHARS:
            continue
        alternatives.append(_SEPARATOR.join(re.escape(c) for c in chars))
    if not alternatives:
        return None
    # not inside a longer word: "G ARIVO1" must not eat part of "XG ARIVO12"
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])", re.IGNORECASE)


def _filter_quoted(match: re.Match[str], key_group: int, value_group: int) -> str:
    if not is_personal_key(match.group(key_group)):
        return match.group(0)
    value = match.group(value_group)
    replacement = (
        f"'{FILTERED}'" if value.startswith("'") else f'"{FILTERED}"' if value[0] == '"' else FILTERED
    )
    start, end = match.span(value_group)
    whole = match.group(0)
    offset = match.start(0)
    return whole[: start - offset] + replacement + whole[end - offset :]


def _redact_shapes(text: str) -> str:
    # each shape needs a tell-tale substring: most strings (log templates, names) skip every pattern
    if "Medium(" in text:
        text = _MEDIUM_REPR.sub(lambda m: m.group(1) + f"'{FILTERED}'", text)
    if "Vehicle(" in text:
        text = _VEHICLE_REPR.sub(lambda m: m.group(1) + FILTERED, text)
    if ":" in text:
        if "lpr:" in text:
            text = _LPR_STR.sub(lambda m: m.group(1) + FILTERED, text)
        if "qr:" in text or "nfc:" in text or "pin:" in text or "regex:" in text:
            text = _MEDIUM_STR.sub(lambda m: m.group(1) + FILTERED, text)
        if "'" in text or '"' in text:
            text = _JSON_PAIR.sub(lambda m: _filter_quoted(m, 2, 4), text)
    if "=" in text:
        text = _KWARG.sub(lambda m: _filter_quoted(m, 1, 2), text)
    return text


class _Values:
    """The personal values of one event, found in a string in two steps: a cheap test on the folded string
    (C substring search per value), then a pattern of only the values that may be in it."""

    def __init__(self, values: Iterable[str]) -> None:
        self.folded = {
            v: f for v in values if len(f := _folded(v)) >= _MIN_VALUE_CHARS and f != _FOLDED_FILTERED
        }

    def redact(self, text: str) -> str:
        if self.folded:
            folded = _folded(text)
            present = frozenset(v for v, f in self.folded.items() if f in folded)
            if present:
                pattern = _value_pattern(present)
                if pattern is not None:
                    text = pattern.sub(FILTERED, text)
        return _redact_shapes(text)


_NO_VALUES = _Values(())


class _Scrubber:
    """Replaces personal data in a JSON-like event structure (dicts, lists, strings)."""

    def __init__(self, values: set[str]) -> None:
        self.values = values
        self.finder = _NO_VALUES

    def key_values(self, data: Any, depth: int = 0) -> None:
        """Learn the values under personal keys of the event itself (they may appear elsewhere too)."""
        if depth > 60:
            return
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(key, str) and is_personal_key(key):
                    for text in _strings(value):
                        self._learn(text)
                else:
                    self.key_values(value, depth + 1)
        elif isinstance(data, list | tuple):
            for item in data:
                self.key_values(item, depth + 1)

    def _learn(self, text: str) -> None:
        # frame variables are reprs: "'G ARIVO1'"
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        text = text.strip()
        if sum(c.isalnum() for c in text) >= _MIN_VALUE_CHARS and len(self.values) < _MAX_VALUES:
            self.values.add(text)

    def finish_learning(self) -> None:
        self.finder = _Values(self.values)

    def scrub(self, data: Any, depth: int = 0, structural: bool = False) -> Any:
        if depth > 60:  # sentry trims deep data already; this only guards against cycles
            return FILTERED if isinstance(data, str) else data
        if isinstance(data, str):
            return data if structural else self.finder.redact(data)
        if isinstance(data, dict):
            result: dict[Any, Any] = {}
            for key, value in data.items():
                if isinstance(key, str) and is_personal_key(key):
                    result[self._key(key, result)] = FILTERED
                    continue
                new_key = self._key(key, result) if isinstance(key, str) else key
                result[new_key] = self.scrub(
                    value, depth + 1, isinstance(key, str) and key in _STRUCTURAL_KEYS
                )
            return result
        if isinstance(data, list):
            return [self.scrub(v, depth + 1, structural) for v in data]
        if isinstance(data, tuple):
            return tuple(self.scrub(v, depth + 1, structural) for v in data)
        return data

    def _key(self, key: str, taken: Mapping[Any, Any]) -> str:
        # a dict keyed by plates ({"G ARIVO1": vehicle}) must not carry them out in its keys; a plain
        # lower-case name ("message", "sys.argv") cannot hold a plate or a medium id in any known shape
        if _PLAIN_KEY.fullmatch(key) and not self.finder.folded:
            return key
        new = self.finder.redact(key)
        if new != key:
            n = 1
            base = new
            while new in taken:
                n += 1
                new = f"{base} ({n})"
        return new


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """The leaves of data under a personal key, except those under keys that name kinds (``type``, ``gate``)."""
    if depth > 20:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            # frame variables are serialized with repr'd keys: "'gate'"
            if not (isinstance(k, str) and k.strip("'\"") in _NEUTRAL_KEYS):
                yield from _strings(v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        yield str(value)


def _scrub(data: dict[str, Any], values: set[str], recent: bool = True) -> dict[str, Any]:
    scrubber = _Scrubber(set(values))
    scrubber.key_values(data)
    # events and transactions also look for values seen recently (their frames may be gone); a breadcrumb
    # (one per log line) only adds what it found
    if recent or scrubber.values:
        remembered = _remember(scrubber.values)
        if recent:
            scrubber.values = remembered
    scrubber.finish_learning()
    scrubbed: dict[str, Any] = scrubber.scrub(data)
    return scrubbed


def _scrub_logentry(entry: Any) -> None:
    # Log arguments are where plates end up ("vehicle %s entered"): keep the template, drop the values.
    if isinstance(entry, dict) and entry.get("params"):
        entry["params"] = (
            [FILTERED for _ in entry["params"]] if isinstance(entry["params"], list) else FILTERED
        )
        if "message" in entry:
            entry["formatted"] = entry["message"]


# -- the hooks --------------------------------------------------------------------------------------------------
def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_send``: remove personal data from an error event (keys, values found in the objects behind it,
    and known shapes) everywhere: exception texts, frame variables, log messages and their arguments,
    breadcrumbs, extra, contexts, tags, request data.

    Usage: ``sentry_sdk.init(..., before_send=scrub_event)``
    """
    values = _collect(hint, _MAX_NODES_EVENT, _EVENT_FRAMES)
    scrubbed = _scrub(event, values)
    _scrub_logentry(scrubbed.get("logentry"))
    return scrubbed


def scrub_transaction(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_send_transaction``: the same for a transaction and its spans (descriptions, data, tags).

    Usage: ``sentry_sdk.init(..., before_send_transaction=scrub_transaction)``
    """
    return _scrub(event, _collect(hint, _MAX_NODES_EVENT, _EVENT_FRAMES))


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_breadcrumb``: scrub breadcrumb data and message; a logging breadcrumb keeps its unformatted
    template (``"vehicle %s entered"``), an f-string message loses the personal values of its caller.

    Usage: ``sentry_sdk.init(..., before_breadcrumb=scrub_breadcrumb)``
    """
    values = _collect(hint, _MAX_NODES_CRUMB, _CRUMB_FRAMES, _CRUMB_DEPTH)
    scrubbed = _scrub(crumb, values, recent=False)
    record = (hint or {}).get("log_record")
    if isinstance(record, logging.LogRecord) and record.args:
        scrubbed["message"] = _Values(values).redact(str(record.msg))
    return scrubbed


def scrub_log(log: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_send_log`` (Sentry logs): scrub the body and the attributes like a breadcrumb; a log with
    parameters keeps its template as the body and loses the parameters.

    Usage: ``sentry_sdk.init(..., before_send_log=scrub_log)``
    """
    values = _collect(hint, _MAX_NODES_CRUMB, _CRUMB_FRAMES, _CRUMB_DEPTH)
    scrubbed = _scrub(log, values, recent=False)
    attributes = scrubbed.get("attributes")
    if isinstance(attributes, dict):
        template = attributes.get("sentry.message.template")
        for key in list(attributes):
            if key.startswith("sentry.message.parameter."):
                attributes[key] = FILTERED
        if template is not None:
            text = template.get("value") if isinstance(template, dict) else template
            if isinstance(text, str):
                scrubbed["body"] = text
    return scrubbed


def chain(*hooks: Callable[[Any, Any], Any] | None) -> Callable[[Any, Any], Any]:
    """One hook running ``hooks`` in order; ``None`` from any of them drops the item."""
    present = [h for h in hooks if h is not None]

    def run(item: Any, hint: Any) -> Any:
        for hook in present:
            item = hook(item, hint)
            if item is None:
                return None
        return item

    return run
