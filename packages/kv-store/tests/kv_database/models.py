# Models of the test service, declared 1.4-style (Column on sqlalchemy's declarative_base) as services do.
from sqlalchemy import Column, String
from sqlalchemy.orm import declarative_base

from openmodule.utils.kv_store import KVEntry

Base = declarative_base()


class Access(KVEntry, Base):
    __tablename__ = "access"

    plate = Column(String, nullable=False)
    note = Column(String, nullable=True)

    @classmethod
    def parse_value(cls, value):
        return {"plate": value.get("plate"), "note": value.get("note")}

    def comparison_value(self):
        return f"{self.plate}|{self.note}"


class Tariff(KVEntry, Base):
    __tablename__ = "tariff"

    cents = Column(String, nullable=False)

    @classmethod
    def parse_value(cls, value):
        return {"cents": str(value["cents"])}
