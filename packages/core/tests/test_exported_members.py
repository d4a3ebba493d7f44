"""The public API of openmodule-core is exactly what its public modules' ``__all__`` list (httpx's
test_exported_members; the rules are in tools/lib/exported_members.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from exported_members import export_problems, public_modules

MODULES = public_modules(Path(__file__).resolve().parents[1] / "src")


def test_there_are_public_modules() -> None:
    assert MODULES


@pytest.mark.parametrize("module", MODULES)
def test_all_is_the_public_names(module: str) -> None:
    assert export_problems(module) == []
