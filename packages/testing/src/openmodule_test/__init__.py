"""openmodule_test: test helpers for openmodule services (unittest mixins, mocks, a pytest plugin).

The mixins live in submodules, as in the reference: ``openmodule_test.core.OpenModuleCoreTestMixin``,
``openmodule_test.zeromq.ZMQTestMixin``, ``openmodule_test.rpc.RPCServerTestMixin`` / ``MockRPCClient``,
``openmodule_test.database.SQLiteTestMixin``, ``openmodule_test.health.HealthTestMixin``,
``openmodule_test.alert.AlertTestMixin``, ``openmodule_test.main.MainTestMixin``,
``openmodule_test.interrupt.InterruptTestMixin``, ``openmodule_test.eventlistener.MockEvent``.
The pytest fixtures (``om_broker``, ``om_core``, ...) are in ``openmodule_test.pytest_plugin``.

Importing any of them installs ``openmodule.utils.schema.Schema`` as the schema recorder of the dispatcher
and the RPC server (``openmodule.dispatcher.set_schema_recorder``): a service's test run records the RPCs
and message handlers it registers for the schema documents (``Schema`` records nothing outside TESTING).
"""

from __future__ import annotations

from openmodule.dispatcher import set_schema_recorder as _set_schema_recorder
from openmodule.utils.schema import Schema as _Schema

# The dispatcher and the RPC server are lower layers than the schema documents: they report registrations
# to the recorder installed here, the one place that knows both.
_set_schema_recorder(_Schema)

# Everything lives in the submodules named above.
__all__: list[str] = []
