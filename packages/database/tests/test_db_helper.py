"""update_query/delete_query touch exactly the rows their query selects (limit, offset, order_by, joins)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from openmodule.database import Database
from openmodule.utils.db_helper import delete_query, update_query


@pytest.fixture
def filled(make_alembic: Any, db_folder: str, models: dict[str, Any]) -> Iterator[Database]:
    """A real SQLite file at revision 0002 with vehicles 1..10 (plates P1..P10, note '') and events of 2, 4, 6."""
    Vehicle, Event = models["Vehicle"], models["Event"]
    db = Database(
        db_folder, "svc", make_alembic("r0001_initial", "r0002_note_event"), main_process_migration=True
    )
    with db as session:
        session.add_all([Vehicle(id=i, plate=f"P{i}") for i in range(1, 11)])
        session.flush()
        session.add_all([Event(id=i, vehicle_id=i, text="seen") for i in (2, 4, 6)])
    yield db
    db.shutdown()


def ids(db: Database, where: str = "1=1") -> list[int]:
    with db as session:
        return [r[0] for r in session.execute(text(f"SELECT id FROM vehicle WHERE {where} ORDER BY id"))]


def test_delete_with_limit_deletes_only_that_many(filled: Database, models: dict[str, Any]) -> None:
    Vehicle = models["Vehicle"]
    with filled as session:
        assert delete_query(session, select(Vehicle).where(Vehicle.id > 0).limit(1)) == 1
    assert ids(filled) == list(range(2, 11))


def test_update_with_offset_touches_only_the_rest(filled: Database, models: dict[str, Any]) -> None:
    Vehicle = models["Vehicle"]
    with filled as session:
        query = select(Vehicle).where(Vehicle.id > 0).order_by(Vehicle.id).offset(8)
        assert update_query(session, query, {"note": "late"}) == 2
    assert ids(filled, "note = 'late'") == [9, 10]


def test_order_by_decides_which_rows_limit_keeps(filled: Database, models: dict[str, Any]) -> None:
    Vehicle = models["Vehicle"]
    with filled as session:
        assert delete_query(session, select(Vehicle).order_by(Vehicle.id.desc()).limit(3)) == 3
        assert (
            update_query(session, select(Vehicle).order_by(Vehicle.id).limit(2).offset(1), {"note": "x"}) == 2
        )
    assert ids(filled) == list(range(1, 8))
    assert ids(filled, "note = 'x'") == [2, 3]


def test_join_selects_only_joined_rows(filled: Database, models: dict[str, Any]) -> None:
    Vehicle, Event = models["Vehicle"], models["Event"]
    with filled as session:
        query = select(Vehicle).join(Event, Event.vehicle_id == Vehicle.id).where(Event.text == "seen")
        assert update_query(session, query, {"note": "has event"}) == 3
    assert ids(filled, "note = 'has event'") == [2, 4, 6]


def test_legacy_query_with_limit_is_honoured(filled: Database, models: dict[str, Any]) -> None:
    # SQLAlchemy's own Query.delete() refuses a limit; the helper deletes exactly the limited rows
    Vehicle = models["Vehicle"]
    with filled as session:
        query = session.query(Vehicle).filter(Vehicle.id > 2).order_by(Vehicle.id).limit(2)
        assert delete_query(session, query) == 2
        assert (
            update_query(session, session.query(Vehicle).order_by(Vehicle.id).offset(7), {"note": "o"}) == 1
        )
    assert ids(filled) == [1, 2] + list(range(5, 11))
    assert ids(filled, "note = 'o'") == [10]


def test_plain_where_still_one_statement(filled: Database, models: dict[str, Any]) -> None:
    Vehicle = models["Vehicle"]
    statements: list[str] = []
    from sqlalchemy import event

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(filled.engine, "before_cursor_execute", record)
    try:
        with filled as session:
            assert delete_query(session, select(Vehicle).where(Vehicle.id >= 9)) == 2
    finally:
        event.remove(filled.engine, "before_cursor_execute", record)
    deletes = [s for s in statements if s.startswith("DELETE")]
    assert deletes == ["DELETE FROM vehicle WHERE vehicle.id >= ?"]
    assert ids(filled) == list(range(1, 9))
