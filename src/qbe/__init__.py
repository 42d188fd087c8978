"""qbe — judge whether a county's compulsory education is quality-balanced.

The pipeline, one stage per package: ``language`` (grammar → AST),
``semantics`` (checks → model), ``compiler`` (plan → vectorised evaluation),
``results`` (report shape and findings), ``default_plugins`` (loaders and
writers), ``cli``. The facade below is what other programs use.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import DataError, QbeError, RulesetError, UsageError  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402

__all__ = ["DataError", "QbeError", "RulesetError", "UsageError", "__version__", "hookimpl"]
