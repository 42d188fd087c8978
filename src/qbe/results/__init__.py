"""Results: what an evaluation found, as data every writer shares.

:mod:`.schema` defines the JSON report as pydantic models (the contract);
:mod:`.assemble` turns the plan's arrays into that shape; :mod:`.findings`
words every shortfall the way a self-evaluation report does.
"""

from .assemble import Evaluation, assemble
from .schema import SCHEMA_VERSION, Report

__all__ = ["SCHEMA_VERSION", "Evaluation", "Report", "assemble"]
