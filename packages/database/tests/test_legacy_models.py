"""Models written for SQLAlchemy 1.4 (plain annotations, no ``Mapped[]``) keep mapping under SQLAlchemy 2."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine, select
from sqlalchemy.orm import Session, declarative_base, relationship
from sqlalchemy.orm.exc import MappedAnnotationError

import openmodule.database  # noqa: F401  (the import is what lets legacy bases accept plain annotations)
from openmodule.database import Base as OpenModuleBase

# declared at module level, as services do (without the fix this module does not even import). SQLAlchemy 2
# still reads a plain annotation of a relationship() for collection-or-scalar, so it must resolve when the
# class is created: Car comes first, and Garage's ``list[Car]`` names an existing class
LegacyBase = declarative_base()


class Car(LegacyBase):
    __tablename__ = "car"
    id = Column(Integer, primary_key=True)
    garage_id = Column(Integer, ForeignKey("garage.id"))
    garage: Garage = relationship("Garage", back_populates="cars")


class Garage(LegacyBase):
    __tablename__ = "garage"
    id = Column(Integer, primary_key=True)
    cars: list[Car] = relationship("Car", back_populates="garage", cascade="all, delete")
    name: str = Column(String(20))


def test_plain_annotated_relationship_on_a_legacy_base_maps_and_works():
    engine = create_engine("sqlite://")
    LegacyBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Garage(name="north", cars=[Car(), Car()]))
        session.commit()
        garage = session.scalars(select(Garage)).one()
        assert garage.name == "north" and len(garage.cars) == 2
        assert {car.garage.name for car in garage.cars} == {"north"}


def test_a_legacy_base_may_still_opt_out():
    strict = declarative_base()

    class StrictBase(strict):  # type: ignore[misc,valid-type]
        __abstract__ = True
        __allow_unmapped__ = False

    with pytest.raises(MappedAnnotationError):

        class Broken(StrictBase):
            __tablename__ = "broken"
            id = Column(Integer, primary_key=True)
            others: list[int] = relationship("Broken")


def test_declarative_base_classes_of_sqlalchemy_2_stay_strict():
    # on the 2.0-style Base a plain annotation is a mistake worth an error, not a silently unmapped attribute
    with pytest.raises(MappedAnnotationError):

        class Wrong(OpenModuleBase):
            __tablename__ = "wrong"
            id = Column(Integer, primary_key=True)
            parent: list[int] = relationship("Wrong")


def test_importing_any_part_of_openmodule_database_is_enough():
    # a service's model module often imports only a column type from openmodule, before declaring its models
    code = textwrap.dedent(
        """
        from typing import List
        from sqlalchemy import Column, ForeignKey, Integer
        from sqlalchemy.orm import declarative_base, relationship
        from openmodule.database.custom_types import TZDateTime

        Base = declarative_base()

        class Parent(Base):
            __tablename__ = "parent"
            id = Column(Integer, primary_key=True)
            seen = Column(TZDateTime, nullable=True)
            children: List["Child"] = relationship("Child")

        class Child(Base):
            __tablename__ = "child"
            id = Column(Integer, primary_key=True)
            parent_id = Column(Integer, ForeignKey("parent.id"))

        print(Parent.children.property.mapper.class_.__name__)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Child"
