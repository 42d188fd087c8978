"""``qbe serve``: a local web app for supervision staff who do not use a terminal.

The app is a thin layer over the same library functions as the command line
(:mod:`qbe.pipeline`, :mod:`qbe.compare`, :mod:`qbe.explain`, :mod:`qbe.versions`
and the writer plugins): choosing a standard, uploading tables, reading the
report, downloading it, comparing standards, and reading or checking a ruleset.

Stack: Starlette (routing, requests, test client) served by uvicorn, Jinja2
pages rendered on the server with a little plain JavaScript, python-multipart
for uploads. None of it is needed by the base install; it comes with the
``web`` extra (``pip install 'qbe[web]'``).
"""

from __future__ import annotations

import importlib.util

#: import name → the distribution that provides it, for the install hint
REQUIRED = {"starlette": "starlette", "uvicorn": "uvicorn", "jinja2": "jinja2", "multipart": "python-multipart"}


def missing_packages() -> list[str]:
    """Distributions of the ``web`` extra that cannot be imported here."""
    return [dist for mod, dist in REQUIRED.items() if importlib.util.find_spec(mod) is None]
