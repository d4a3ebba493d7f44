"""What a validation error report says: where and why, never the values received."""

from __future__ import annotations

import pytest
from pydantic import ValidationError, field_validator

from openmodule.dispatcher import invalid_input_errors
from openmodule.models.base import OpenModuleModel


class Voucher(OpenModuleModel):
    code: str
    owner: dict[str, str] = {}

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if value.startswith("x"):
            raise ValueError("must not start with x")  # names a rule, not the value
        if value.startswith("q"):
            raise ValueError(f"unknown code {value.upper()}")  # quotes the value (changed in case)
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: dict[str, str]) -> dict[str, str]:
        if "plate" in value:
            raise ValueError(f"owner {value['plate'].replace(' ', '-')} is blocked")
        return value


def errors_of(**data: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        Voucher.model_validate(data)
    return invalid_input_errors(caught.value)


def test_a_validators_own_text_is_kept_when_it_quotes_no_input() -> None:
    assert errors_of(code="xyz") == [
        {"loc": ["code"], "type": "value_error", "msg": "Value error, must not start with x"}
    ]


def test_a_validator_text_quoting_the_input_is_left_out_whatever_its_case_or_separators() -> None:
    assert errors_of(code="quality-7") == [{"loc": ["code"], "type": "value_error"}]
    # a nested value, its spaces turned into dashes by the validator, is still recognized
    assert errors_of(code="ok", owner={"plate": "G ARIVO 1"}) == [{"loc": ["owner"], "type": "value_error"}]


def test_pydantic_texts_built_from_constraints_are_kept_and_values_never_appear() -> None:
    (error,) = errors_of(code=["G ARIVO1"])
    assert error["type"] == "string_type" and error["msg"] == "Input should be a valid string"
    assert "ARIVO" not in str(error)
