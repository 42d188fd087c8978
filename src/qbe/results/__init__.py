"""Results: what an evaluation found, as data every writer shares.

:mod:`.schema` defines the JSON report as pydantic models (the contract);
:mod:`.assemble` turns the plan's arrays into that shape; :mod:`.findings`
words every shortfall the way a self-evaluation report does.
"""

from typing import Any

from .assemble import Evaluation, assemble
from .schema_version import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Evaluation", "Report", "assemble"]


def __getattr__(name: str) -> Any:
    """``Report`` (the schema's pydantic model) is imported when first asked for, not with the package."""
    if name == "Report":
        from .schema import Report

        return Report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
