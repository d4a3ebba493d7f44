"""``OpenModuleCoreTestMixin``: a real core per test, on the test broker."""

from __future__ import annotations

from typing import Any

from openmodule.core import init_openmodule, shutdown_openmodule
from openmodule_test.health import HealthTestMixin

__all__ = ["OpenModuleCoreTestMixin"]


class OpenModuleCoreTestMixin(HealthTestMixin):
    """Starts ``init_openmodule`` in setUp (sentry and dsgvo off) and shuts it down afterwards.

    Usage::

        class MyServiceTest(OpenModuleCoreTestMixin):
            topics = ["healthpong", "my-topic"]
            init_kwargs = dict(dispatcher_max_threads=2)
    """

    init_kwargs: dict[str, Any] = {}

    def get_init_kwargs(self) -> dict[str, Any]:
        # A copy: the reference mutated the class-level dict shared by every subclass.
        kwargs = dict(self.init_kwargs)
        kwargs.setdefault("sentry", False)
        kwargs.setdefault("dsgvo", False)
        return kwargs

    def setUp(self) -> None:
        super().setUp()
        self.zmq_client.subscribe("healthpong")
        self.core = init_openmodule(
            config=self.zmq_config(), context=self.zmq_context(), **self.get_init_kwargs()
        )
        self.addCleanup(self._shutdown_core)
        self.wait_for_health(self.zmq_config().NAME)

    def _shutdown_core(self) -> None:
        from openmodule.core import core_or_none

        if core_or_none() is not None:
            shutdown_openmodule()
