"""``python -m openmodule.broker``: the same as the ``openmodule-broker`` console script."""

from __future__ import annotations

from openmodule.broker._cli import main

raise SystemExit(main())
