"""Bulk update/delete helpers for openmodule databases (``openmodule.utils.db_helper``).

Usage::

    from openmodule.utils.db_helper import delete_query, update_query

    with database as session:
        n = update_query(session, session.query(Vehicle).filter(Vehicle.plate == "X"), {"seen": True})
        n = delete_query(session, select(Vehicle).where(Vehicle.old.is_(True)))
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, update
from sqlalchemy.orm import Session

__all__ = ["delete_query", "update_query"]


def _session(db: Any) -> Session:
    # accept the session, or a Database inside `with database` (its active session)
    session = getattr(db, "active_session", db)
    assert isinstance(session, Session), "update_query/delete_query need a session (inside `with database`)"
    return session


def _statement(query: Any, kind: str, values: dict[str, Any] | None = None) -> Any:
    if isinstance(query, Select):
        entity = query.column_descriptions[0]["entity"]
        stmt: Any = update(entity).values(values or {}) if kind == "update" else delete(entity)
        if query.whereclause is not None:
            stmt = stmt.where(query.whereclause)
        return stmt.execution_options(synchronize_session=False)
    return None


def update_query(db: Any, query: Any, values: dict[str, Any]) -> int:
    """Bulk ``UPDATE`` of the rows matched by ``query`` (a ``session.query(...)`` or ``select(Model)``) without
    session synchronization, then expire all loaded objects. Returns the number of rows."""
    session = _session(db)
    stmt = _statement(query, "update", values)
    if stmt is None:
        count = query.update(values, synchronize_session=False)
    else:
        count = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    session.expire_all()
    return int(count)


def delete_query(db: Any, query: Any) -> int:
    """Bulk ``DELETE`` of the rows matched by ``query``, then expire all loaded objects. Returns the count."""
    session = _session(db)
    stmt = _statement(query, "delete")
    if stmt is None:
        count = query.delete(synchronize_session=False)
    else:
        count = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    session.expire_all()
    return int(count)
