"""Meaning of a parsed ruleset: names resolved, types and units checked.

``check(rulesets)`` runs every pass and returns a :class:`~.model.Model` plus
the full list of diagnostics; nothing is executed here.
"""

from .checker import check_ruleset
from .model import Model

__all__ = ["Model", "check_ruleset"]
