"""Small helpers around service names.

Usage::

    from openmodule.utils.misc_functions import clean_service_name

    clean_service_name("om_alpr_nn_1")   # "alpr_nn"
"""

from __future__ import annotations

import re

__all__ = ["clean_service_name"]

# A service's NAME is "om_<service>_<instance number>"; the instance number and the prefix are deployment
# details, the rest names the service.
_PREFIX = "om_"
_INSTANCE = re.compile(r"_\d+\Z")


def clean_service_name(name: str) -> str:
    """``name`` without a leading ``om_`` and a trailing ``_<digits>`` (``om_alpr_nn_1`` -> ``alpr_nn``).

    Names that do not follow the pattern are returned unchanged (``omg_alpr_nn_1r``, ``enforcement:service``).
    """
    if name.startswith(_PREFIX):
        name = name[len(_PREFIX) :]
    return _INSTANCE.sub("", name)
