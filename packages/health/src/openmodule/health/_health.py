"""Health: answers the poller's pings and keeps the service's checks and metrics."""

from __future__ import annotations

import json
import logging
import numbers
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from openmodule.config import ServiceConfig, is_development
from openmodule.dispatcher import MessageDispatcher, RateLimitedLog
from openmodule.health._handler import HealthHandlerType, _GuardedCall, _Verdict
from openmodule.models.health import (
    HealthCheck,
    HealthCheckState,
    HealthMetric,
    HealthMetricType,
    HealthPingMessage,
    HealthPongMessage,
    HealthPongPayload,
)

log = logging.getLogger("openmodule.health")

# The process start as the poller sees it: the time this module was first imported.
_STARTUP = datetime.fromtimestamp(time.time(), UTC).replace(tzinfo=None)

PING_TOPIC = "healthz"
PONG_TOPIC = "healthpong"

RESERVED_LABELS = frozenset(
    {
        "instance",
        "job",
        "metric_name",
        "package_id",
        "package_name",
        "resource",
        "source",
        "compute_id",
        "environment",
    }
)
_RESERVED_PREFIXES = ("__", "grafana_")

LabelFormat = Literal["repr", "json"]


def is_reserved_label(name: str) -> bool:
    """True for label names the metrics pipeline sets itself (``compute_id``, ``job``, ``__x``, ``grafana_x``...)."""
    return name in RESERVED_LABELS or name.startswith(_RESERVED_PREFIXES)


@dataclass
class _Check:
    """A check as ``Health.checks`` holds it (keyed by ``(check_id, package)``)."""

    name: str
    description: str | None
    state: HealthCheckState = HealthCheckState.no_data
    message: str | None = None
    id: str = ""
    package: str = ""


@dataclass
class _Template:
    name: str
    description: str | None


@dataclass
class _Metric:
    """A metric as ``Health.metrics`` holds it; ``values`` maps the label-key string (as sent in the pong) to
    the value, and changes in place."""

    type: HealthMetricType
    name: str
    description: str
    labels: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    package: str = ""


class Health:
    """The health endpoint of a service: answers ``healthz`` pings with a pong of its checks and metrics.

    The core builds it on its internal dispatcher; services use it as ``core.health``.

    Usage::

        health = Health(loop.dispatcher, publisher.publish, config=settings)
        health.add_check("camera", "Camera", "camera reachable")
        health.check_fail("camera", message="no frames since 10 s")
        health.add_metric("plates", HealthMetricType.count, "Plates", "plates read", labels=["gate"])
        health.metric_inc("plates", gate="gate_1")

    ``health_handler`` (optional, the README's legacy API) is called on every ping in its own thread: an
    error result, an exception or no answer within ``handler_timeout`` seconds marks the pong as ``error``.
    ``label_format`` chooses the metric label-key strings: ``"repr"`` (12.x, default) or ``"json"`` (18.x);
    without it the setting ``HEALTH_LABEL_FORMAT`` decides.

    ``checks`` and ``metrics`` are the live dicts keyed by ``(id, package)`` (see ``_check_id``), in the
    order they were added, which is also the order of the pong.
    """

    def __init__(
        self,
        dispatcher: MessageDispatcher,
        publish: Callable[[Any, str], Any],
        config: ServiceConfig | None = None,
        health_handler: HealthHandlerType | None = None,
        *,
        handler_timeout: float = 1.0,
        label_format: LabelFormat | None = None,
    ) -> None:
        if config is None:
            from openmodule.config import settings

            config = settings
        self.config = config
        self.publish = publish
        self.health_handler: HealthHandlerType | None = health_handler
        self.handler_timeout = handler_timeout
        fmt = label_format or getattr(config, "HEALTH_LABEL_FORMAT", None) or "repr"
        if fmt not in ("repr", "json"):
            raise ValueError(f"label_format must be 'repr' (12.x) or 'json' (18.x), got {fmt!r}")
        self.label_format: LabelFormat = fmt
        self.log = log
        self.templates: dict[str, _Template] = {}  # per instance (the reference shared one dict per class)
        self.checks: dict[tuple[str, str], _Check] = {}
        self.metrics: dict[tuple[str, str], _Metric] = {}
        # One lock for checks, metrics and pong building: services update them from any thread.
        self._lock = threading.RLock()
        self._guarded_call = _GuardedCall()
        self._ratelog = RateLimitedLog(log)
        self.dispatcher = dispatcher
        self._listener = dispatcher.register_handler(
            PING_TOPIC, HealthPingMessage, self._on_ping, register_schema=False
        )

    # -- legacy handler attribute --------------------------------------------------------------------
    @property
    def health_hanlder(self) -> HealthHandlerType | None:
        """The README's misspelling of :attr:`health_handler` (``core.health.health_hanlder = f`` works)."""
        return self.health_handler

    @health_hanlder.setter
    def health_hanlder(self, value: HealthHandlerType | None) -> None:
        self.health_handler = value

    def close(self) -> None:
        """Stops answering pings (unregisters the ping handler)."""
        self.dispatcher.unregister_handler(self._listener)

    # -- helpers -------------------------------------------------------------------------------------
    @property
    def _strict(self) -> bool:
        return is_development(self.config)

    def _package(self, parent: bool, package: str | None) -> str:
        if parent and package is not None:
            raise AssertionError(
                "you can only set either parent or package: pass parent=True or package=..., not both"
            )
        if parent:
            value = getattr(self.config, "PARENT", None)
            if not value:
                raise AssertionError("parent=True but no parent is set: set PARENT in the settings")
            return str(value)
        if package is not None:
            return str(package)
        return str(self.config.NAME)

    def _check_id(self, check_id: str, parent: bool = False, package: str | None = None) -> tuple[str, str]:
        """The key of a check or metric in :attr:`checks` / :attr:`metrics`: ``(id, package)``.

        Usage: ``health.metrics[health._check_id("plates")].values``
        """
        return str(check_id), self._package(parent, package)

    def _violation(self, msg: str, operation: str = "") -> None:
        # Development: fail loudly; production: a bad metric update must never take the service down. The
        # log is rate-limited per message and operation, so every misused call site is reported once.
        if self._strict:
            raise ValueError(msg)
        self._ratelog.log("%s", msg, key=f"{operation}:{msg}", level=logging.ERROR)

    # -- checks --------------------------------------------------------------------------------------
    def add_check(
        self,
        check_id: str,
        name: str,
        description: str | None,
        *,
        parent: bool = False,
        package: str | None = None,
    ) -> None:
        """(Re)creates check ``check_id`` in state ``no-data``. Usage: ``add_check("cam", "Camera", "reachable")``"""
        key = self._check_id(check_id, parent, package)
        with self._lock:
            self.checks[key] = _Check(name=name, description=description, id=key[0], package=key[1])

    def remove_check(self, check_id: str, *, parent: bool = False, package: str | None = None) -> None:
        """Removes a check; a missing check is fine. Usage: ``remove_check("cam")``"""
        key = self._check_id(check_id, parent, package)
        with self._lock:
            self.checks.pop(key, None)

    def add_check_template(self, check_id: str, name: str, description: str | None = None) -> None:
        """Stores name/description of a check that dynamic packages get via :meth:`update_template_packages`."""
        with self._lock:
            self.templates[str(check_id)] = _Template(name=name, description=description)

    def update_template_packages(self, check_id: str, packages: Iterable[str]) -> None:
        """Makes the set of packages having check ``check_id`` equal ``packages``; existing ones keep their state.

        Usage: ``update_template_packages("cam_online", ["cam_1", "cam_2"])``; unknown template -> ``KeyError``.
        """
        check_id = str(check_id)
        wanted = {str(p) for p in packages}
        with self._lock:
            if check_id not in self.templates:
                raise KeyError(
                    f"no check template {check_id!r}: call add_check_template({check_id!r}, ...) first"
                )
            template = self.templates[check_id]
            for key in [k for k in self.checks if k[0] == check_id and k[1] not in wanted]:
                del self.checks[key]
            for package in sorted(wanted):  # sorted: the pong lists new checks in a stable order
                if (check_id, package) not in self.checks:
                    self.checks[(check_id, package)] = _Check(
                        name=template.name, description=template.description, id=check_id, package=package
                    )

    def set_check_state(
        self,
        check_id: str,
        state: HealthCheckState | str,
        *,
        parent: bool = False,
        package: str | None = None,
        message: str | None = None,
    ) -> None:
        """Sets a check's state; ``message`` is kept only for ``fail``. Usage: ``set_check_state("cam", "ok")``"""
        state = HealthCheckState(state)
        key = self._check_id(check_id, parent, package)
        with self._lock:
            check = self.checks.get(key)
            if check is None:
                msg = f"health check {key[0]!r} of package {key[1]!r} does not exist: call add_check first"
                if self._strict:
                    raise AssertionError(msg)
                self._ratelog.log("%s", msg, key="check:" + msg, level=logging.WARNING)
                return
            check.state = state
            check.message = None if state != HealthCheckState.fail or message is None else str(message)

    def check_fail(
        self, check_id: str, *, parent: bool = False, package: str | None = None, message: str | None = None
    ) -> None:
        """Marks a check failed. Usage: ``check_fail("cam", message="no frames")``"""
        self.set_check_state(check_id, HealthCheckState.fail, parent=parent, package=package, message=message)

    def check_success(
        self, check_id: str, *, parent: bool = False, package: str | None = None, message: str | None = None
    ) -> None:
        """Marks a check ok. Usage: ``check_success("cam")``"""
        self.set_check_state(check_id, HealthCheckState.ok, parent=parent, package=package, message=message)

    # -- metrics -------------------------------------------------------------------------------------
    def add_metric(
        self,
        metric_id: str,
        metric_type: HealthMetricType | str,
        name: str,
        description: str,
        *,
        labels: Iterable[str] | None = None,
        parent: bool = False,
        package: str | None = None,
    ) -> None:
        """(Re)creates a metric with no values.

        Usage: ``add_metric("plates", HealthMetricType.count, "Plates", "plates read", labels=["gate"])``
        """
        key = self._check_id(metric_id, parent, package)
        try:
            mtype = HealthMetricType(metric_type)
        except ValueError:
            self._violation(
                f"metric {key[0]!r}: unknown metric type {metric_type!r}, use one of count, gauge, str"
            )
            return
        label_list = [str(label) for label in (labels or [])]
        reserved = sorted(label for label in label_list if is_reserved_label(label))
        if reserved:
            self._violation(
                f"metric {key[0]!r}: label names {reserved} are reserved by the metrics pipeline, rename them"
            )
            # Production: keep the metric, but compute_id is always the device's own.
            label_list = [label for label in label_list if label != "compute_id"]
        with self._lock:
            self.metrics[key] = _Metric(
                type=mtype, name=name, description=description, labels=label_list, id=key[0], package=key[1]
            )

    def remove_metric(self, metric_id: str, *, parent: bool = False, package: str | None = None) -> None:
        """Removes a metric; a missing metric is fine. Usage: ``remove_metric("plates")``"""
        key = self._check_id(metric_id, parent, package)
        with self._lock:
            self.metrics.pop(key, None)

    def _label_key(self, metric_id: str, metric: _Metric, labels: dict[str, Any], operation: str) -> str:
        if set(labels) != set(metric.labels):
            # Production stores the value anyway (the reference did); development points at the mistake.
            self._violation(
                f"metric {metric_id} labels do not match the metric definition: got {sorted(labels)}, "
                f"declared {sorted(metric.labels)}",
                operation,
            )
        reserved = sorted(name for name in labels if is_reserved_label(name))
        if reserved:
            self._violation(
                f"metric {metric_id!r}: label names {reserved} are reserved, rename them", operation
            )
        pairs = {str(k): str(v) for k, v in labels.items()}
        pairs["compute_id"] = str(getattr(self.config, "COMPUTE_ID", 1))  # never replaced by a user label
        return self._format_key(pairs)

    def _get_metric(
        self, metric_id: str, parent: bool, package: str | None, operation: str
    ) -> _Metric | None:
        key = self._check_id(metric_id, parent, package)
        metric = self.metrics.get(key)
        if metric is None:
            self._violation(
                f"metric {key[0]!r} of package {key[1]!r} not found, the metric will not be set: "
                "call add_metric first",
                operation,
            )
        return metric

    def _type_error(self, metric_id: str, metric: _Metric, problem: str, hint: str, operation: str) -> None:
        self._violation(f"metric {metric_id!r} of type {metric.type.value} {problem}: {hint}", operation)

    def metric_set(
        self,
        metric_id: str,
        value: float | str | None,
        *,
        parent: bool = False,
        package: str | None = None,
        **labels: Any,
    ) -> None:
        """Sets the value of one label combination; ``None`` deletes it. Usage: ``metric_set("temp", 21.5)``"""
        with self._lock:
            metric = self._get_metric(metric_id, parent, package, "set")
            if metric is None:
                return
            if metric.type == HealthMetricType.count and value is not None:
                self._type_error(metric_id, metric, "cannot be set", "use metric_inc", "set")
                return
            if value is not None:
                if metric.type == HealthMetricType.str and not isinstance(value, str):
                    self._type_error(
                        metric_id, metric, "cannot be set to a non-string value", f"got {value!r}", "set"
                    )
                    return
                if metric.type == HealthMetricType.gauge and not _is_number(value):
                    self._type_error(
                        metric_id, metric, "cannot be set to a non-numeric value", f"got {value!r}", "set"
                    )
                    return
            key = self._label_key(metric_id, metric, labels, "set")
            if value is None:
                metric.values.pop(key, None)
            else:
                metric.values[key] = value

    def metric_inc(
        self,
        metric_id: str,
        amount: int | float = 1,
        *,
        parent: bool = False,
        package: str | None = None,
        **labels: Any,
    ) -> None:
        """Adds ``amount`` (starting at 0). Usage: ``metric_inc("plates", gate="gate_1")``"""
        self._add(metric_id, amount, 1, "inc", parent, package, labels)

    def metric_dec(
        self,
        metric_id: str,
        amount: int | float = 1,
        *,
        parent: bool = False,
        package: str | None = None,
        **labels: Any,
    ) -> None:
        """Subtracts ``amount`` (gauges only). Usage: ``metric_dec("queue", gate="gate_1")``"""
        self._add(metric_id, amount, -1, "dec", parent, package, labels)

    def _add(
        self,
        metric_id: str,
        amount: Any,
        sign: int,
        operation: str,
        parent: bool,
        package: str | None,
        labels: dict[str, Any],
    ) -> None:
        with self._lock:
            metric = self._get_metric(metric_id, parent, package, operation)
            if metric is None:
                return
            if metric.type == HealthMetricType.str:
                self._type_error(
                    metric_id,
                    metric,
                    "cannot be increased or decreased",
                    "use metric_set with a str",
                    operation,
                )
                return
            if not _is_number(amount):
                self._type_error(
                    metric_id,
                    metric,
                    "cannot be set to a non-numeric value",
                    f"got amount {amount!r}",
                    operation,
                )
                return
            delta = sign * amount
            if metric.type == HealthMetricType.count and delta < 0:
                self._type_error(
                    metric_id,
                    metric,
                    "cannot be decreased",
                    f"a count only goes up (change {delta!r}); use a gauge for values that go down",
                    operation,
                )
                return
            key = self._label_key(metric_id, metric, labels, operation)
            metric.values[key] = metric.values.get(key, 0) + delta

    def metric_clear(
        self,
        metric_id: str,
        *,
        parent: bool = False,
        package: str | None = None,
        values_to_keep: Iterable[dict[str, Any]] | None = None,
    ) -> None:
        """Deletes all values except the listed label combinations. Usage: ``metric_clear("q", values_to_keep=[{"gate": "g1"}])``"""
        with self._lock:
            metric = self._get_metric(metric_id, parent, package, "clear")
            if metric is None:
                return
            compute_id = str(getattr(self.config, "COMPUTE_ID", 1))
            keep = set()
            for labels in values_to_keep or []:
                pairs = {
                    str(k): str(v) for k, v in dict(labels).items()
                }  # a copy: never touch the caller's dict
                pairs["compute_id"] = compute_id
                keep.add(self._format_key(pairs))
            # in place: code holding ``health.metrics[...]`` sees the cleared values
            for key in [k for k in metric.values if k not in keep]:
                del metric.values[key]

    # -- pong ----------------------------------------------------------------------------------------
    def _format_key(self, pairs: dict[str, str]) -> str:
        if self.label_format == "json":
            return json.dumps(pairs, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        return repr(sorted(pairs.items()))

    def _snapshot(self) -> tuple[list[HealthCheck], list[HealthMetric]]:
        with self._lock:
            checks = [
                HealthCheck(
                    id=cid,
                    package=pkg,
                    state=c.state,
                    name=c.name,
                    description=c.description,
                    message=c.message if c.state == HealthCheckState.fail else None,
                )
                for (cid, pkg), c in self.checks.items()
            ]
            metrics = [
                HealthMetric(
                    id=mid,
                    name=m.name,
                    description=m.description,
                    type=m.type,
                    labels=list(m.labels),
                    values=dict(m.values),
                    package=pkg,
                )
                for (mid, pkg), m in self.metrics.items()
            ]
        return checks, metrics

    def _handler_verdict(self) -> _Verdict | None:
        handler = self.health_handler
        if handler is None:
            return None
        verdict, exc = self._guarded_call(handler, self.handler_timeout)
        if exc is not None:
            self._ratelog.log("health handler raised", key="handler-exc", level=logging.ERROR, exc_info=exc)
        elif not verdict.ok:
            self._ratelog.log(
                "health: %s", verdict.message, key="handler:" + str(verdict.message), level=logging.WARNING
            )
        return verdict

    def build_pong(self) -> HealthPongMessage:
        """The pong as it would be sent now (checks and metrics in the order they were added, as in 12.x)."""
        verdict = self._handler_verdict()
        checks, metrics = self._snapshot()
        failing = [c for c in checks if c.state == HealthCheckState.fail]
        message = failing[-1].message if failing else None  # the reference reports the last failing check
        status = "error" if failing else "ok"
        meta = None
        if verdict is not None:
            meta = verdict.meta
            if not verdict.ok:
                status = "error"
                message = verdict.message  # the handler speaks for the whole service
        payload = HealthPongPayload(
            status=status,
            version=str(self.config.VERSION),
            name=str(self.config.NAME),
            startup=_STARTUP,
            message=message,
            meta=meta,
        )
        return HealthPongMessage(name=str(self.config.NAME), pong=payload, checks=checks, metrics=metrics)

    def _on_ping(self, message: HealthPingMessage) -> None:
        """Answers the health poller's ping on ``healthz`` with a pong on ``healthpong``."""
        try:
            pong = self.build_pong()
        except Exception:
            # Never stay silent: a poller that gets no pong marks the service dead.
            self._ratelog.log(
                "could not build the health pong", key="build", level=logging.ERROR, exc_info=True
            )
            pong = HealthPongMessage(
                name=str(self.config.NAME),
                pong=HealthPongPayload(
                    status="error",
                    version=str(self.config.VERSION),
                    name=str(self.config.NAME),
                    startup=_STARTUP,
                    message="internal error while building the health pong",
                ),
            )
        self.publish(pong, PONG_TOPIC)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


Healthz = Health
