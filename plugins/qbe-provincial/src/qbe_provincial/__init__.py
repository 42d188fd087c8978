"""qbe-provincial: read the school export of a provincial education statistics reporting system.

An example of a third-party qbe plugin. The reporting system (省教育统计报表系统)
is fictional but shaped like the real ones: an .xlsx (or .csv) export with a
marker row, two merged header rows of its own wording, a totals row and notes
at the bottom. Installed next to qbe, this package makes

    qbe run --standard national-2017 --data export.xlsx --county-data counties.csv

work with no change to qbe: qbe finds the module through the entry point
``provincial = "qbe_provincial"`` in the group ``qbe`` (see pyproject.toml) and
calls the hook below.
"""

from __future__ import annotations

from qbe import hookimpl

from .loader import ProvincialLoader

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("qbe-provincial")
except PackageNotFoundError:  # run from a source checkout without installing
    __version__ = "0.0.0"

__all__ = ["ProvincialLoader", "__version__", "qbe_loaders"]


# qbe asks the loaders of third-party plugins before its own, so this loader sees an
# export first although qbe's csv and xlsx loaders would claim it by its extension.
@hookimpl
def qbe_loaders() -> list[ProvincialLoader]:
    return [ProvincialLoader()]
