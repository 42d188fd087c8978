"""Checked model → plan of vectorised numpy operations → values.

``compile_model`` builds a :class:`~.plan.Plan` (a graph of nodes with shared
subexpressions merged); ``execute`` runs it over a :class:`~.frame.Frame`
(the data plus its groupings, factorised once).
"""

from .execute import execute
from .frame import Frame, build_frame
from .plan import Plan, compile_model

__all__ = ["Frame", "Plan", "build_frame", "compile_model", "execute"]
