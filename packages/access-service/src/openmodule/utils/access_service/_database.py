from __future__ import annotations

import functools
import logging
import re
from typing import Any

from rapidfuzz.distance import Levenshtein
from sqlalchemy import Column, Integer, String, event
from sqlalchemy.orm import Mapped, declared_attr, synonym

from openmodule.database.custom_types import JSONEncodedDict
from openmodule.models.access_service import (
    AccessCategory,
    AccessCheckAccess,
    AccessCheckRejectReason,
    AccessCheckRequest,
)
from openmodule.models.vehicle import LPRMedium, Medium, MediumType
from openmodule.utils.access_service._service import AccessService
from openmodule.utils.charset import CharsetConverter, legacy_lpr_charset
from openmodule.utils.kv_store import KVEntry, KVStore
from openmodule.utils.matching import OTHER, MatchingConfig, PlateYamlSelector

log = logging.getLogger("openmodule.utils.access_service")

_clean = CharsetConverter(legacy_lpr_charset).clean
_MEDIA = ("lpr_id", "qr_id", "nfc_id", "pin_id", "regex")
#: Longest regex an access may carry; longer ones are refused (a user-supplied pattern is evaluated per request).
MAX_REGEX_LENGTH = 200


class AccessModelBase(KVEntry):
    """Mixin of an access table kept by the KV store: the KVEntry columns plus customer, car, group, infos and
    the media. ``id`` is the ``key``.

    Before a row is written ``lpr_id_search`` is set to the legacy-charset-cleaned ``lpr_id``; ``lpr_country``
    must be set exactly when ``lpr_id`` is, and at least one medium (lpr, qr, nfc, pin) or a regex is required
    (``ValueError`` otherwise).

    Usage::

        class Access(Base, AccessModelBase):
            __tablename__ = "access"

            @classmethod
            def parse_value(cls, value):
                return value
    """

    customer_id = Column(String, nullable=True)
    car_id = Column(String, nullable=True)
    group_id = Column(String, nullable=True)
    access_infos = Column(JSONEncodedDict, nullable=True)
    lpr_id = Column(String, nullable=True)
    lpr_id_search = Column(String, nullable=True, index=True)
    lpr_country = Column(String, nullable=True)
    matching_scheme = Column(String, nullable=True)
    matching_version = Column(Integer, nullable=True)
    qr_id = Column(String, nullable=True, index=True)
    nfc_id = Column(String, nullable=True, index=True)
    pin_id = Column(String, nullable=True, index=True)
    regex = Column(String, nullable=True, index=True)

    # SQLAlchemy 2 reads this annotation: it must be Mapped[...] (a bare Any is refused when the table is
    # mapped, "can't be correctly interpreted for Annotated Declarative Table form").
    @declared_attr
    def id(cls) -> Mapped[str]:
        return synonym("key")


def _check_access_row(mapper: Any, connection: Any, target: Any) -> None:
    target.lpr_id_search = _clean(target.lpr_id) if target.lpr_id else None
    if (target.lpr_id is None) != (target.lpr_country is None):
        raise ValueError(
            f"access {target.key!r}: lpr_country must be set exactly when lpr_id is "
            f"(lpr_id={target.lpr_id!r}, lpr_country={target.lpr_country!r})"
        )
    if all(getattr(target, column) is None for column in _MEDIA):
        raise ValueError(f"access {target.key!r} needs a medium (lpr, qr, nfc, pin) or a regex")


event.listen(AccessModelBase, "before_insert", _check_access_row, propagate=True)
event.listen(AccessModelBase, "before_update", _check_access_row, propagate=True)


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    if len(pattern) > MAX_REGEX_LENGTH:
        log.error("access regex of %d characters refused (at most %d)", len(pattern), MAX_REGEX_LENGTH)
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        log.error("access regex %r does not compile: %s", pattern, exc)
        return None


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class AccessServiceWithDatabase(AccessService, KVStore):
    """An access service whose accesses are the rows of a KV store table (``database_table``, derived from
    :class:`AccessModelBase`), kept in sync with the server.

    Implement :meth:`db_model_to_access` and :meth:`rpc_check_access` (with the ``find_*_accesses`` helpers,
    :meth:`deduplicate_accesses` and :meth:`check_accesses_valid_at_gate`).

    Usage::

        service = MyAccessService(core.database, MatchingConfig(), SettingsProvider())
        service.register_rpcs(rpc_server)      # access_service/auth and the kv_sync RPCs
        service.run_as_thread()                # syncs the accesses when the connection comes up
        ...
        service.shutdown()

    ``settings_provider`` defaults to a new ``SettingsProvider()`` (on the running core); it is kept as
    ``self.settings``.
    """

    auth_request_request_model = AccessCheckRequest

    def __init__(
        self,
        database: Any,
        matching_config: MatchingConfig,
        settings_provider: Any = None,
        sync_timeout: float = 300.0,
    ) -> None:
        AccessService.__init__(self)
        KVStore.__init__(self, database, sync_timeout=sync_timeout)
        if settings_provider is None:
            from openmodule.utils.settings import SettingsProvider

            settings_provider = SettingsProvider()
        self.settings = settings_provider
        self.matching_config = matching_config
        self.plate_selector = PlateYamlSelector.from_config(matching_config)

    def register_rpcs(self, rpc_server: Any) -> None:
        """``access_service``/``auth`` (filtered by NAME) and the ``kv_sync`` RPCs of the accesses."""
        AccessService.register_rpcs(self, rpc_server)
        KVStore.register_rpcs(self, rpc_server)

    def shutdown(self, timeout: float = 10) -> None:
        KVStore.shutdown(self, timeout)

    def db_model_to_access(
        self, db_model: Any, used_medium: Medium, request: AccessCheckRequest
    ) -> AccessCheckAccess:
        """The access of a row found with ``used_medium`` for ``request``."""
        raise NotImplementedError(f"{type(self).__name__} must implement db_model_to_access")

    # -- finding accesses ---------------------------------------------------------------------------
    def _session(self) -> Any:
        # rows are read after the session ends (db_model_to_access): keep their loaded values
        return self.db(expire_on_commit=False)

    def _rows(self, column: str, value: Any) -> list[Any]:
        table = self.database_table
        with self._session() as session:
            return list(
                session.query(table).filter(getattr(table, column) == value).order_by(table.e_tag).all()
            )

    def _accesses(
        self, rows: list[Any], kind: MediumType, column: str, request: AccessCheckRequest
    ) -> list[AccessCheckAccess]:
        return [
            self.db_model_to_access(row, Medium(type=kind, id=getattr(row, column)), request) for row in rows
        ]

    def find_lpr_accesses(self, medium: LPRMedium, request: AccessCheckRequest) -> list[AccessCheckAccess]:
        """Accesses whose plate matches ``medium``: with edit distance 0 the candidates of the same cleaned
        plate are matched with their plate schemes; with a larger edit distance every plate within that
        Levenshtein distance of the cleaned plate counts."""
        plate = medium.id
        country = medium.country.code if medium.country is not None else OTHER
        cleaned = _clean(plate)
        table = self.database_table
        edit_distance = self.matching_config.edit_distance
        if edit_distance > 0:
            with self._session() as session:
                rows = (
                    session.query(table).filter(table.lpr_id_search.isnot(None)).order_by(table.e_tag).all()
                )
            hits = [
                r
                for r in rows
                if Levenshtein.distance(r.lpr_id_search, cleaned, score_cutoff=edit_distance) <= edit_distance
            ]
            return self._accesses(hits, MediumType.lpr, "lpr_id", request)

        rows = self._rows("lpr_id_search", cleaned)
        if not rows:
            return []
        config = self.matching_config
        db: dict[str, Any] = {}
        for row in rows:
            self.plate_selector.insert_into_db_and_create_record(
                db,
                row.lpr_id,
                row.lpr_country or OTHER,
                row.matching_scheme or config.default_scheme,
                config.default_version if row.matching_version is None else row.matching_version,
                id=row.e_tag,
            )
        buckets = self.plate_selector.match_plate(
            self.plate_selector.create_plate_for_matching(plate, country),
            db,
            use_alternatives=False,
            max_ed=0,
            return_only_best=False,
        )
        matched = {record["id"] for bucket in buckets for record in bucket}
        return self._accesses(
            [row for row in rows if row.e_tag in matched], MediumType.lpr, "lpr_id", request
        )

    def find_qr_accesses(self, medium: Medium, request: AccessCheckRequest) -> list[AccessCheckAccess]:
        return self._accesses(self._rows("qr_id", medium.id), MediumType.qr, "qr_id", request)

    def find_nfc_accesses(self, medium: Medium, request: AccessCheckRequest) -> list[AccessCheckAccess]:
        return self._accesses(self._rows("nfc_id", medium.id), MediumType.nfc, "nfc_id", request)

    def find_pin_accesses(self, medium: Medium, request: AccessCheckRequest) -> list[AccessCheckAccess]:
        return self._accesses(self._rows("pin_id", medium.id), MediumType.pin, "pin_id", request)

    def find_regex_accesses(self, medium: Medium, request: AccessCheckRequest) -> list[AccessCheckAccess]:
        """Accesses whose regex matches the medium id at its start (``re.match``); patterns are compiled
        once, and ones that do not compile or are too long are logged and skipped."""
        table = self.database_table
        with self._session() as session:
            rows = session.query(table).filter(table.regex.isnot(None)).order_by(table.e_tag).all()
        hits = [r for r in rows if (p := _compiled(r.regex)) is not None and p.match(medium.id)]
        return self._accesses(hits, MediumType.regex, "regex", request)

    @staticmethod
    def deduplicate_accesses(accesses: list[AccessCheckAccess]) -> list[AccessCheckAccess]:
        """The first access of every id, in order."""
        seen: set[str] = set()
        result = []
        for access in accesses:
            if access.id not in seen:
                seen.add(access.id)
                result.append(access)
        return result

    def check_accesses_valid_at_gate(self, accesses: list[AccessCheckAccess], gate: str) -> None:
        """Mark the accesses not valid at ``gate`` with ``accepted=False, reject_reason=wrong_gate`` (in place).

        Doors are never restricted. An access with a parksetting is valid at its parksetting's gates; one
        without (or with an unknown parksetting, logged) is valid anywhere unless it is shortterm/unknown,
        which needs a shortterm gate of some parking area.
        """
        gates = _as_dict(self.settings.get("common/gates"))
        gate_info = gates.get(gate)
        if gate_info is not None and str(getattr(gate_info, "type", "")) == "door":
            return
        parking_areas = _as_dict(self.settings.get("common/parking_areas2"))
        parksettings = _as_dict(self.settings.get("common/parksettings2"))
        shortterm_gate = any(
            gate in (getattr(pa, "shortterm_gates", None) or []) for pa in parking_areas.values()
        )
        for access in accesses:
            parksetting = None
            if access.parksettings_id is not None:
                parksetting = parksettings.get(access.parksettings_id)
                if parksetting is None:
                    log.warning(
                        "access %s names the unknown parksetting %s", access.id, access.parksettings_id
                    )
            if parksetting is not None:
                valid = gate in (parksetting.gates or [])
            elif access.category in (AccessCategory.shortterm, AccessCategory.unknown):
                valid = shortterm_gate
            else:
                valid = True
            if not valid:
                access.accepted = False
                access.reject_reason = AccessCheckRejectReason.wrong_gate
