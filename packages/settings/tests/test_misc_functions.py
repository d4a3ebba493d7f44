from __future__ import annotations

import pytest

from openmodule.utils.misc_functions import clean_service_name


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("om_alpr_nn_1", "alpr_nn"),
        ("om_access_service_12", "access_service"),
        ("om_gate", "gate"),
        ("gate_control_3", "gate_control"),
        ("omg_alpr_nn_1r", "omg_alpr_nn_1r"),
        ("enforcement:service", "enforcement:service"),
        ("om_", ""),
        ("_1", ""),
        ("om_x_1_2", "x_1"),
    ],
)
def test_clean_service_name(name, cleaned):
    assert clean_service_name(name) == cleaned
