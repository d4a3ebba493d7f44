"""Bulk update/delete helpers for openmodule databases (``openmodule.utils.db_helper``).

Usage::

    from openmodule.utils.db_helper import delete_query, update_query

    with database as session:
        n = update_query(session, session.query(Vehicle).filter(Vehicle.plate == "X"), {"seen": True})
        n = delete_query(session, select(Vehicle).where(Vehicle.old.is_(True)))
        n = delete_query(session, select(Vehicle).order_by(Vehicle.seen).limit(100))  # the 100 oldest

A query with only a WHERE clause becomes ``UPDATE/DELETE ... WHERE <clause>``. A query with anything else that
decides which rows it selects (``limit``, ``offset``, ``order_by`` with a limit, joins, ``group_by``,
``distinct``, ...) is honoured exactly: the statement touches the rows whose primary key the query selects
(``... WHERE pk IN (SELECT pk <query>)``), never more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, inspect, select, tuple_, update
from sqlalchemy.orm import Query, Session

__all__ = ["delete_query", "update_query"]


def _session(db: Any) -> Session:
    # accept the session, or a Database inside `with database` (its active session)
    session = getattr(db, "active_session", db)
    assert isinstance(session, Session), "update_query/delete_query need a session (inside `with database`)"
    return session


def _entity(query: Select[Any] | Query[Any]) -> Any:
    descriptions = query.column_descriptions
    entity = descriptions[0].get("entity") if descriptions else None
    if entity is None:
        raise ValueError(
            "update_query/delete_query need a query of a mapped model, e.g. select(Vehicle).where(...), "
            f"not {query}"
        )
    return entity


def _only_where(query: Select[Any], entity: Any) -> bool:
    # Compare with the plain "SELECT <entity> WHERE <clause>": any limit, offset, ordering, join, grouping,
    # DISTINCT, column choice or extra FROM shows up in the SQL text. A bulk statement built from the WHERE
    # clause alone would silently drop such a clause and touch more rows than the query selects.
    plain = select(entity)
    if query.whereclause is not None:
        plain = plain.where(query.whereclause)
    return str(query) == str(plain)


def _pk_filter(query: Select[Any], entity: Any) -> Any:
    # The rows the query selects, identified by primary key. SQLite evaluates the subquery (with its LIMIT,
    # OFFSET, ORDER BY and joins) once before changing any row.
    pk = inspect(entity).primary_key
    if not pk:
        raise ValueError(
            f"{entity.__name__} has no primary key: update_query/delete_query can honour limit/offset/order_by/"
            "joins only through the primary key. Use a query with a plain WHERE clause."
        )
    # Only the selected columns change: WHERE, joins, ORDER BY, LIMIT, OFFSET, GROUP BY and DISTINCT stay.
    chosen = query.with_only_columns(*pk, maintain_column_froms=False)
    if len(pk) == 1:
        return pk[0].in_(chosen)
    return tuple_(*pk).in_(chosen)


def _statement(query: Select[Any], kind: str, values: dict[str, Any] | None = None) -> Any:
    entity = _entity(query)
    stmt: Any = update(entity).values(values or {}) if kind == "update" else delete(entity)
    if _only_where(query, entity):
        if query.whereclause is not None:
            stmt = stmt.where(query.whereclause)
    else:
        stmt = stmt.where(_pk_filter(query, entity))
    return stmt.execution_options(synchronize_session=False)


def _as_select(query: Any) -> Select[Any] | None:
    """A 2.0 ``Select`` for the query, or ``None`` for a legacy ``Query`` that SQLAlchemy runs as it is."""
    if isinstance(query, Select):
        return query
    if isinstance(query, Query):
        statement = query.statement
        if isinstance(statement, Select) and not _only_where(statement, _entity(query)):
            # legacy Query.update()/delete() refuse limit/offset ("Can't call Query.update() ... when limit()
            # has been called") and ignore joins: run it through the exact primary-key statement instead
            return statement
        return None
    raise TypeError(
        f"update_query/delete_query need a session.query(Model)... or select(Model)... query, not {type(query)}"
    )


def update_query(db: Any, query: Any, values: dict[str, Any]) -> int:
    """Bulk ``UPDATE`` of exactly the rows ``query`` selects (a ``session.query(...)`` or ``select(Model)``)
    without session synchronization, then expire all loaded objects. Returns the number of rows.

    Usage: ``update_query(session, select(Vehicle).where(Vehicle.id > 5).limit(10), {"note": "x"})``
    """
    session = _session(db)
    statement = _as_select(query)
    if statement is None:
        count = query.update(values, synchronize_session=False)
    else:
        count = session.execute(_statement(statement, "update", values)).rowcount  # type: ignore[attr-defined]
    session.expire_all()
    return int(count)


def delete_query(db: Any, query: Any) -> int:
    """Bulk ``DELETE`` of exactly the rows ``query`` selects, then expire all loaded objects. Returns the count.

    Usage: ``delete_query(session, select(Vehicle).order_by(Vehicle.seen).limit(100))``
    """
    session = _session(db)
    statement = _as_select(query)
    if statement is None:
        count = query.delete(synchronize_session=False)
    else:
        count = session.execute(_statement(statement, "delete")).rowcount  # type: ignore[attr-defined]
    session.expire_all()
    return int(count)
