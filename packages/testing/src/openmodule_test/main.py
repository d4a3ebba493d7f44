"""``MainTestMixin``: run a service's ``main()`` in a child process and check its lifecycle."""

from __future__ import annotations

from openmodule_test.health import HealthTestMixin
from openmodule_test.interrupt import InterruptTestMixin
from openmodule_test.zeromq import ZMQProtocol


class MainTestMixin(HealthTestMixin, InterruptTestMixin):
    """Health over TCP plus child-process helpers.

    Usage::

        class MainTest(MainTestMixin):
            def test_shutdown(self):
                with self.assertLogs() as logs:
                    process = self.start_process(main)
                    self.wait_for_health("om_my_service_1")
                    self.send_signal_to_process(process, signal.SIGINT)
                    self.assertCleanShutdown(process)
                self.assertIn("KeyboardInterrupt", "\\n".join(logs.output))
    """

    topics = ["healthpong"]
    protocol = ZMQProtocol.TCP

    def tearDown(self) -> None:
        from openmodule.core import core, shutdown_openmodule

        if core() is not None:
            shutdown_openmodule()
        super().tearDown()
