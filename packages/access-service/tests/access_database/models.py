# The access table of a test access service, declared as services do (AccessModelBase on declarative_base).
from sqlalchemy.orm import declarative_base

from openmodule.utils.access_service import AccessModelBase

Base = declarative_base()


class Access(Base, AccessModelBase):
    __tablename__ = "access"

    @classmethod
    def parse_value(cls, value):
        return value
