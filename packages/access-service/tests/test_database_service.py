"""AccessServiceWithDatabase on a real SQLite file migrated with a real alembic revision."""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterator
from typing import Any

import pytest

from openmodule.database.database import Database
from openmodule.models.access_service import (
    AccessCategory,
    AccessCheckAccess,
    AccessCheckRequest,
)
from openmodule.models.vehicle import LPRCountry, LPRMedium, Medium
from openmodule.utils.access_service import AccessServiceWithDatabase
from openmodule.utils.matching import MatchingConfig

ALEMBIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "access_database")


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    return runpy.run_path(os.path.join(ALEMBIC, "models.py"))


@pytest.fixture
def database(tmp_path: Any) -> Iterator[Database]:
    db = Database(str(tmp_path), "access_test", alembic_path=ALEMBIC, main_process_migration=True)
    yield db
    db.shutdown()


def service(database: Database, models: dict[str, Any], edit_distance: int = 0) -> AccessServiceWithDatabase:
    class Accesses(AccessServiceWithDatabase):
        database_table = models["Access"]

        def db_model_to_access(
            self, db_model: Any, used_medium: Medium, request: AccessCheckRequest
        ) -> AccessCheckAccess:
            return AccessCheckAccess(
                id=db_model.id,
                source="test",
                category=AccessCategory.whitelist,
                access_infos={},
                media={},
                access_data={},
                used_medium=used_medium,
                accepted=True,
            )

    # settings_provider given: the default one needs a running core
    return Accesses(database, MatchingConfig(edit_distance=edit_distance), settings_provider=object())


def add(database: Database, models: dict[str, Any], key: str, e_tag: int, plate: str) -> None:
    with database as session:
        session.add(models["Access"](key=key, e_tag=e_tag, lpr_id=plate, lpr_country="A"))


@pytest.mark.parametrize("edit_distance", [0, 1])
def test_find_lpr_accesses_returns_the_accesses_of_the_plate(
    database: Database, models: dict[str, Any], edit_distance: int
) -> None:
    add(database, models, "a1", 1, "G ARIVO 1")
    add(database, models, "a2", 2, "W 12345")
    accesses = service(database, models, edit_distance)
    request = AccessCheckRequest(name="om_access_test_1", vehicle={"lpr": {"id": "GARIVO1"}})
    found = accesses.find_lpr_accesses(LPRMedium(id="G ARIVO 1", country=LPRCountry(code="A")), request)
    assert [(a.id, a.used_medium.type, a.used_medium.id) for a in found] == [("a1", "lpr", "G ARIVO 1")]
