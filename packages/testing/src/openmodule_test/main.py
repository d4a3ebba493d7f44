"""``MainTestMixin``: run a service's ``main()`` in a child process and check its lifecycle.

The class lives in ``openmodule_test.interrupt`` (where the reference has it); this module keeps the
``openmodule_test.main`` import path working.
"""

from __future__ import annotations

from openmodule_test.interrupt import MainTestMixin

__all__ = ["MainTestMixin"]
