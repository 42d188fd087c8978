"""The hooks a qbe plugin can implement — a stable contract.

Stability promise: within a major version of qbe, these hook names and their
arguments do not change; new optional hooks may be added. Built-in loaders
and writers are registered through exactly these hooks (see
:mod:`qbe.default_plugins`), so a third-party plugin has the same powers as
qbe's own. A plugin is a module or package registered under the entry-point
group ``qbe``; it implements hooks with ``@qbe.hookimpl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from .plugins import Function, Loader, Writer

hookspec = pluggy.HookspecMarker("qbe")
hookimpl = pluggy.HookimplMarker("qbe")


@hookspec
def qbe_loaders() -> list[Loader]:
    """Return the data loaders this plugin provides.

    Each loader has a ``name``, a ``description``, ``claims(source) -> bool``
    (by URL scheme, file extension or sniffing the content) and
    ``read(source, sheet=None, known_headers=None) -> list[RawSheet]``. qbe
    asks the loaders in registration order (plugins before built-ins) and uses
    the first that claims the source; the sheets it returns are then validated
    by qbe against the standard's declared inputs, so a loader only finds
    cells and never has to check them.

    Called once per plugin-manager build. Added in 0.1.
    """


@hookspec
def qbe_writers() -> list[Writer]:
    """Return the report writers this plugin provides.

    Each writer has a ``format`` (the name used with ``--format``), an
    ``extension`` (``None`` for output shown in the terminal), a
    ``description`` and ``render(evaluation, report, lang)``, which returns
    ``str``, ``bytes`` or an iterable of string pieces (for large reports).
    qbe writes what ``render`` returns atomically (to a temporary name, then
    renamed), so a failed writer never leaves half a file. ``report`` is the
    JSON-shaped dict of :mod:`qbe.results.schema`; ``evaluation`` gives access
    to the raw arrays for writers that need speed; ``lang`` is ``zh`` or ``en``.
    A writer that raises is reported by name and the other formats are still
    written. Added in 0.1.
    """


@hookspec
def qbe_functions() -> list[Function]:
    """Return functions this plugin adds to the ruleset language.

    Each is a :class:`qbe.plugins.Function`: a ``name`` used in formulas, an
    ``arity`` (a number, or (min, max)), ``aggregate`` (False: applied row by
    row to whole columns; True: summarises the rows of each school, county ×
    stage or county, like ``sum``), ``returns`` ("number", "percent" or
    "same": the unit of its first argument) and ``compute``. For an
    elementwise function ``compute(*columns)`` gets float64 numpy arrays and
    returns one; for an aggregate ``compute(values, group_codes, n_groups)``
    returns one value per group. NaN means missing, in and out. Calls are
    type-checked when a ruleset is checked (name, number of arguments,
    numbers only, where aggregates may be used); a name that clashes with a
    built-in function is refused and reported. Added in 0.1.
    """


@hookspec
def qbe_rulesets() -> list[Path]:
    """Return paths of ruleset files (``*.qbe``) this plugin ships.

    They are listed by ``qbe standards`` and can be used by id with
    ``--standard``. Added in 0.1.
    """
