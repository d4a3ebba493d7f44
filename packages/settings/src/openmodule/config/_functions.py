"""Settings derived from the environment (the functions the README lists under "Setting functions")."""

from __future__ import annotations

import functools
import glob
import logging
import os
import socket
from pathlib import Path
from typing import Any, TypeVar

import yaml as _pyyaml

from openmodule.config._env import bool as env_bool
from openmodule.config._env import int as env_int
from openmodule.config._env import string

log = logging.getLogger("openmodule.config")

M = TypeVar("M")


def testing() -> bool:
    """True if the ``TESTING`` environment variable is set to a true value."""
    return env_bool("TESTING", False)


@functools.cache
def _inside_docker() -> bool:
    if os.path.exists("/.dockerenv"):
        return True
    try:
        with open("/proc/self/cgroup") as f:
            return any("docker" in line for line in f)
    except OSError:
        return False


def version() -> str:
    """``VERSION`` from the environment, else the content of ./VERSION, else ``"unknown"``."""
    value = string("VERSION")
    if not value:
        try:
            value = Path("VERSION").read_text()
        except OSError:
            value = ""
    value = value.strip(" \r\n\t")
    return value or "unknown"


def debug() -> bool:
    """True for ``DEBUG=true``, or (without DEBUG, not testing) an unknown version outside Docker."""
    if "DEBUG" in os.environ:
        return env_bool("DEBUG", False)
    if testing():
        return False
    return version() == "unknown" and not _inside_docker()


def resource() -> str:
    """The auth resource: ``AUTH_RESOURCE``, else the host name when testing or outside Docker."""
    value = string("AUTH_RESOURCE")
    if not value and (testing() or not _inside_docker()):
        value = socket.gethostname()
    return value


def dev_device() -> bool:
    """Whether the device is authenticated at the dev device server (``DEVICE_HOST`` contains "test")."""
    if "DEVICE_HOST" in os.environ:
        return "test" in os.environ["DEVICE_HOST"]
    return testing() or debug()


def compute_id() -> int:
    """``COMPUTE_ID`` (1 = the bridged master device)."""
    return env_int("COMPUTE_ID", 1)


def config_yaml_path() -> str:
    """``CONFIG_YAML``, or the default YAML path for the debug, testing or production environment."""
    value = string("CONFIG_YAML")
    if value:
        return value
    if debug():
        return "../settings/default-debug.yml"
    if testing():
        return "../settings/default-testing.yml"
    return "/data/config.yml"


def dist_folder() -> str:
    """``DIST_FOLDER``, or the default for the testing, debug or production environment."""
    if testing():
        default = "../tests/dist2"
    elif debug():
        default = "../dist2"
    else:
        default = "/opt/openmodule/dist2"
    return string("DIST_FOLDER", default)


def database_folder() -> str:
    """``DATABASE_FOLDER``, or the default for the testing, debug or production environment.

    Follows 18.x: the environment variable wins in every environment.
    """
    if testing():
        default = "../sqlite/test/"
    elif debug():
        default = "../sqlite/debug/"
    else:
        default = "/data/sqlite/"
    return string("DATABASE_FOLDER", default)


_LOG_LEVELS = {
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "VERBOSE": logging.DEBUG,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "ERR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
    "CRIT": logging.CRITICAL,
    "FATAL": logging.FATAL,
}


def log_level() -> int:
    """``LOG_LEVEL`` as a :mod:`logging` level; DEBUG in debug mode, else INFO when unset or unknown."""
    level = _LOG_LEVELS.get(string("LOG_LEVEL").upper())
    if level is not None:
        return level
    return logging.DEBUG if debug() else logging.INFO


def broker_pub(default: str = "tcp://127.0.0.1:10200") -> str:
    """Endpoint of the broker's XPUB side (services connect their SUB socket here)."""
    value = string("BROKER_PUB")
    if value:
        return value
    host = string("BROKER_HOST")
    if host:
        return f"tcp://{host}:{env_int('BROKER_PUB_PORT', 10200)}"
    return default


def broker_sub(default: str = "tcp://127.0.0.1:10100") -> str:
    """Endpoint of the broker's XSUB side (services connect their PUB socket here)."""
    value = string("BROKER_SUB")
    if value:
        return value
    host = string("BROKER_HOST")
    if host:
        return f"tcp://{host}:{env_int('BROKER_SUB_PORT', 10100)}"
    return default


def locale_dir() -> str:
    """``LOCALE_DIR``, or where the service's translations live by convention."""
    value = string("LOCALE_DIR")
    if value:
        return value  # the reference returned DEBUG here (a bug fixed in 18.x)
    if testing() or debug():
        found = sorted(glob.glob("../*/translation/locale"))
        return found[0] if found else "../docker/translation/locale"
    return "/translation/locale"


def settings_module() -> str:
    """Name of the settings module: ``SETTINGS_MODULE``, else ``tests.config`` when testing, else ``config``."""
    default = "tests.config" if testing() and os.path.exists("../tests/config.py") else "config"
    return string("SETTINGS_MODULE", default)


def run_checks() -> bool:
    """Developer assertions (datetime validators, metric errors) are on in debug and testing."""
    return debug() or testing()


# PyYAML has no type information in the dev venv (no stubs): its classes are Any to mypy.
class _SafeLoaderIgnoringUnknownTags(_pyyaml.SafeLoader):  # type: ignore[misc]
    """A safe loader that turns unknown tags (``!secret`` ...) into None instead of failing."""


def _unknown_tag(loader: _pyyaml.SafeLoader, suffix: str, node: _pyyaml.Node) -> None:
    return None


_SafeLoaderIgnoringUnknownTags.add_multi_constructor("", _unknown_tag)


class ConfigFileError(ValueError):
    """A YAML configuration file could not be read, parsed or validated."""


#: Default of how many nodes the aliases (``*name``) of one YAML document may add in total; a few hundred
#: bytes of nested aliases ("billion laughs") otherwise expand to hundreds of megabytes once validated.
DEFAULT_MAX_ALIAS_NODES = 100_000


class _YamlLimitError(ValueError):
    """A YAML document exceeds a limit of :func:`yaml` (alias expansion, recursive alias)."""


def _max_alias_nodes(explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    return env_int("CONFIG_YAML_MAX_ALIAS_NODES", DEFAULT_MAX_ALIAS_NODES)


def _alias_expansion(root: _pyyaml.Node) -> tuple[int, int]:
    """``(expanded, distinct)`` node counts of a composed document: ``expanded`` counts a node once per alias
    pointing at it (what the loaded data holds when every alias is a copy), ``distinct`` once.

    Sizes are memoized per node, so this is linear in the file even for an alias bomb. Raises
    ``_YamlLimitError`` for a recursive alias (a collection that contains itself expands without end).
    """
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[_pyyaml.Node, bool]] = [(root, False)]

    def children(node: _pyyaml.Node) -> list[_pyyaml.Node]:
        if isinstance(node, _pyyaml.MappingNode):
            return [part for pair in node.value for part in pair]
        if isinstance(node, _pyyaml.SequenceNode):
            return list(node.value)
        return []

    while stack:  # iterative: a deeply nested document must not exhaust the Python stack here
        node, finished = stack.pop()
        key = id(node)
        if finished:
            visiting.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children(node))
            continue
        if key in sizes:
            continue
        if key in visiting:
            raise _YamlLimitError(
                f"a recursive alias at line {node.start_mark.line + 1} refers to its own collection"
            )
        visiting.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in sizes)
    return sizes[id(root)], len(sizes)


def _load_yaml(stream: Any, max_alias_nodes: int) -> Any:
    loader = _SafeLoaderIgnoringUnknownTags(stream)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        expanded, distinct = _alias_expansion(node)
        if expanded - distinct > max_alias_nodes:
            raise _YamlLimitError(
                f"its aliases expand to {expanded - distinct} more nodes, above the limit of {max_alias_nodes} "
                "(an alias bomb?). Use fewer aliases or raise the limit with CONFIG_YAML_MAX_ALIAS_NODES"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _describe_validation_error(exc: Exception) -> str:
    # pydantic's ValidationError lists each bad field; duck-typed so settings needs no pydantic.
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            parts = []
            for err in errors():
                loc = ".".join(str(p) for p in err.get("loc", ())) or "<root>"
                parts.append(f"field '{loc}': {err.get('msg')}")
            if parts:
                return "; ".join(parts)
        except Exception:  # pragma: no cover - fall back to the plain text
            pass
    return str(exc)


def yaml(
    model: type[M], path: str | os.PathLike[str] | None = None, *, max_alias_nodes: int | None = None
) -> M:
    """Load the YAML config at ``path`` (default :func:`config_yaml_path`) into the pydantic ``model``.

    A missing file gives the model's defaults. A file that is not valid YAML, or whose content fails the
    model, raises :class:`ConfigFileError` naming the file, the field and the reason. So does a file whose
    aliases would add more than ``max_alias_nodes`` nodes (default: ``CONFIG_YAML_MAX_ALIAS_NODES`` from the
    environment, else 100 000), or that is nested too deeply to parse.

    Usage: ``YAML = config.yaml(YAMLConfig)``
    """
    file = Path(path if path is not None else config_yaml_path())
    validate: Any = getattr(model, "model_validate", None) or getattr(model, "parse_obj", None)
    if not file.exists():
        try:
            return model()
        except Exception as exc:
            # a developer's mistake (a field without default) more than a user's: say so, then raise as is
            reason = _describe_validation_error(exc)
            log.error(
                "something is wrong with the configuration: there is no config file %s and the defaults of %s "
                "do not validate: %s",
                file,
                model.__name__,
                reason,
            )
            exc.add_note(f"no config file {file}; the defaults of {model.__name__} do not validate: {reason}")
            raise
    limit = _max_alias_nodes(max_alias_nodes)
    try:
        with file.open("rb") as f:
            data = _load_yaml(f, limit)
    except _pyyaml.YAMLError as exc:
        log.exception("config file %s is not valid YAML", file)
        raise ConfigFileError(f"{file}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigFileError(f"{file}: cannot be read: {exc}") from exc
    except RecursionError:
        log.error("config file %s is nested too deeply to parse", file)
        raise ConfigFileError(f"{file}: nested too deeply to parse") from None
    except _YamlLimitError as exc:
        log.error("config file %s refused: %s", file, exc)
        raise ConfigFileError(f"{file}: {exc}") from None
    except ValueError as exc:  # a constructor's own check, e.g. a timestamp on 30 February
        log.error("config file %s is not valid YAML: %s", file, exc)
        raise ConfigFileError(f"{file}: not valid YAML: {exc}") from None
    if data is None:
        data = {}
    try:
        return validate(data) if validate is not None else model(**data)
    except Exception as exc:
        # Re-raised as is (services catch pydantic's ValidationError), with the file named in a note.
        reason = _describe_validation_error(exc)
        log.exception(
            "something is wrong with the configuration: config file %s does not match %s: %s",
            file,
            model.__name__,
            reason,
        )
        exc.add_note(f"while loading config file {file} into {model.__name__}: {reason}")
        raise
