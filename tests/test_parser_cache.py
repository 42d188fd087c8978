"""The built LALR parser is kept in the user's cache folder and gives the same trees when loaded."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from qbe.language import parser_cache

GRAMMAR = resources.files("qbe.language").joinpath("grammar.lark").read_text(encoding="utf-8")
RULESET = (Path(__file__).parent.parent / "rulesets" / "national-2017.qbe").read_text(encoding="utf-8")
OPTIONS = {"propagate_positions": True, "maybe_placeholders": True}


def test_second_build_loads_the_saved_parser_and_parses_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("QBE_CACHE_DIR", str(tmp_path))
    first = parser_cache.build(GRAMMAR, "ruleset", **OPTIONS)
    saved = list(tmp_path.glob("ruleset-*.lark"))
    assert len(saved) == 1 and not list(tmp_path.glob("*.tmp"))
    stamp = saved[0].stat().st_mtime_ns
    second = parser_cache.build(GRAMMAR, "ruleset", **OPTIONS)
    assert saved[0].stat().st_mtime_ns == stamp  # read, not written again
    a, b = first.parse(RULESET), second.parse(RULESET)
    assert a == b
    # positions survive the round trip (diagnostics point at line and column)
    assert [t.meta.line for t in a.children[:5]] == [t.meta.line for t in b.children[:5]]


def test_another_grammar_or_options_get_their_own_file(tmp_path, monkeypatch):
    monkeypatch.setenv("QBE_CACHE_DIR", str(tmp_path))
    parser_cache.build(GRAMMAR, "ruleset", **OPTIONS)
    parser_cache.build(GRAMMAR, "ruleset", propagate_positions=True, keep_all_tokens=True)
    parser_cache.build(GRAMMAR + "\n// changed\n", "ruleset", **OPTIONS)
    assert len(list(tmp_path.glob("ruleset-*.lark"))) == 3


def test_a_damaged_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("QBE_CACHE_DIR", str(tmp_path))
    parser_cache.build(GRAMMAR, "ruleset", **OPTIONS)
    (saved,) = tmp_path.glob("ruleset-*.lark")
    saved.write_bytes(b"not a parser")
    p = parser_cache.build(GRAMMAR, "ruleset", **OPTIONS)
    assert p.parse(RULESET).data == parser_cache.build(GRAMMAR, "ruleset", **OPTIONS).parse(RULESET).data
    assert saved.read_bytes() != b"not a parser"


@pytest.mark.parametrize("value", ["off", ""])
def test_caching_can_be_turned_off(tmp_path, monkeypatch, value):
    monkeypatch.setenv("QBE_CACHE_DIR", value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parser_cache.cache_dir() is None
    parser_cache.build(GRAMMAR, "ruleset", **OPTIONS)
    assert not list(tmp_path.rglob("*.lark"))


def test_an_unwritable_folder_only_costs_the_build(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("QBE_CACHE_DIR", str(blocker / "sub"))  # a folder cannot be made under a file
    assert parser_cache.build(GRAMMAR, "ruleset", **OPTIONS).parse(RULESET).data == "start"


# ------------------------------------------------------------------------------ parsed rulesets


def _counting(monkeypatch) -> list[str]:
    """Count the parses that really run (not read back from the cache)."""
    from qbe.language import parser

    calls: list[str] = []
    real = parser._parse_text
    monkeypatch.setattr(parser, "_parse_text", lambda text, file: calls.append(file) or real(text, file))
    return calls


def test_a_parsed_ruleset_is_read_back_equal_and_an_edit_is_parsed_again(tmp_path, monkeypatch):
    from qbe.language.parser import parse_text

    monkeypatch.setenv("QBE_CACHE_DIR", str(tmp_path))
    calls = _counting(monkeypatch)
    first = parse_text(RULESET, "national-2017.qbe")
    again = parse_text(RULESET, "national-2017.qbe")
    assert calls == ["national-2017.qbe"]  # the second came from the cache
    assert again == first and again is not first
    # positions survive (diagnostics point at line and column)
    assert [d.span for d in again.decls[:5]] == [d.span for d in first.decls[:5]]
    edited = RULESET.replace("4.2", "4.3", 1)
    assert parse_text(edited, "national-2017.qbe") != first
    parse_text(RULESET, "elsewhere/national-2017.qbe")  # another name: spans name another file
    assert calls == ["national-2017.qbe", "national-2017.qbe", "elsewhere/national-2017.qbe"]
    assert len(list((tmp_path / "parsed").glob("*.pickle"))) == 3


def test_a_text_that_does_not_parse_is_never_kept(tmp_path, monkeypatch):
    from qbe.errors import RulesetError
    from qbe.language.parser import parse_text

    monkeypatch.setenv("QBE_CACHE_DIR", str(tmp_path))
    for _ in range(2):
        with pytest.raises(RulesetError):
            parse_text(RULESET + "\nindicator {", "bad.qbe")
    assert not list(tmp_path.rglob("*.pickle"))


def test_a_damaged_parse_is_parsed_again_and_old_ones_are_pruned(tmp_path, monkeypatch):
    from qbe.language.parser import parse_text

    monkeypatch.setenv("QBE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(parser_cache, "MAX_PARSED", 2)
    calls = _counting(monkeypatch)
    parse_text(RULESET, "a.qbe")
    (saved,) = (tmp_path / "parsed").glob("*.pickle")
    saved.write_bytes(b"not a pickle")
    assert parse_text(RULESET, "a.qbe").standard.id == "national-2017"
    assert calls == ["a.qbe", "a.qbe"]
    for name in ("b.qbe", "c.qbe"):
        parse_text(RULESET, name)
    assert len(list((tmp_path / "parsed").glob("*.pickle"))) == 2


def test_a_parse_read_back_does_not_load_the_parser(tmp_path):
    """Reading a kept parse back must not import Lark and the parser (~0.05 s of a run's start)."""
    import os
    import subprocess
    import sys

    ruleset = Path(__file__).parent.parent / "rulesets" / "national-2017.qbe"
    code = ("import sys\n"
            "from qbe.language.reading import parse_file\n"
            f"rs = parse_file({str(ruleset)!r})\n"
            "print(rs.standard.id, 'lark' in sys.modules, 'qbe.language.parser' in sys.modules)\n")  # fmt: skip
    env = {**os.environ, "QBE_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
            for _ in range(2)]  # fmt: skip
    assert [r.stdout.split() for r in runs] == [["national-2017", "True", "True"], ["national-2017", "False", "False"]]
