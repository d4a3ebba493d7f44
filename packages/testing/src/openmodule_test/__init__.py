"""openmodule_test: test helpers for openmodule services (unittest mixins, mocks, a pytest plugin).

The mixins live in submodules, as in the reference: ``openmodule_test.core.OpenModuleCoreTestMixin``,
``openmodule_test.zeromq.ZMQTestMixin``, ``openmodule_test.rpc.RPCServerTestMixin`` / ``MockRPCClient``,
``openmodule_test.database.SQLiteTestMixin``, ``openmodule_test.health.HealthTestMixin``,
``openmodule_test.alert.AlertTestMixin``, ``openmodule_test.main.MainTestMixin``,
``openmodule_test.interrupt.InterruptTestMixin``, ``openmodule_test.eventlistener.MockEvent``.
The pytest fixtures (``om_broker``, ``om_core``, ...) are in ``openmodule_test.pytest_plugin``.
"""

# Everything lives in the submodules named above.
__all__: list[str] = []
