"""Any text given as a ruleset yields a model or qbe's own diagnostics — never another exception.

Mutations of the real national ruleset (a token deleted, duplicated or
replaced) exercise the checker and compiler on almost-right input, which is
what a policy officer's edit produces.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NATIONAL
from qbe.compiler import compile_model
from qbe.errors import RulesetError
from qbe.language.parser import parse_text
from qbe.semantics import check_ruleset

TEXT = NATIONAL.read_text(encoding="utf-8")
TOKENS = [m.span() for m in re.finditer(r"\S+", TEXT)]
REPLACEMENTS = ["students", "0.85", "85", "85%", "{", "}", "(", ")", "and", "or", "not", "<=", ">=", "stage",
                "primary", "senior", "sum(students)", "all(x)", '"文字"', "studnets", "teaching_area_m2", "1..0"]


def outcome(text: str) -> None:
    try:
        rs = parse_text(text, "m.qbe")
    except RulesetError as e:
        assert e.diagnostics and all(d.span is None or d.span.line >= 1 for d in e.diagnostics)
        e.render("zh")
        e.render("en")
        return
    model, diags = check_ruleset(rs)
    for d in diags:
        d.render("en", {"m.qbe": text})
    if model is not None:
        compile_model(model)
    else:
        assert any(d.is_error for d in diags)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(TOKENS) - 1), st.sampled_from(["delete", "duplicate", "replace"]), st.sampled_from(REPLACEMENTS))
def test_mutated_national_ruleset(i, how, repl):
    a, b = TOKENS[i]
    tok = TEXT[a:b]
    new = {"delete": "", "duplicate": tok + " " + tok, "replace": repl}[how]
    outcome(TEXT[:a] + new + TEXT[b:])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    outcome(text)
