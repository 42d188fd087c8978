"""A ruleset is bounded and inert: limits give located diagnostics, and a file cannot reach outside its folder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import NATIONAL, ROOT
from qbe.cli import main
from qbe.errors import RulesetError
from qbe.language.parser import MAX_DECLARATIONS, MAX_EXTENDS, MAX_FILE_BYTES, MAX_NESTING, parse_file, parse_text
from qbe.pipeline import check_file


def limit_error(text: str, file: str = "t.qbe"):
    with pytest.raises(RulesetError) as e:
        parse_text(text, file)
    (d,) = e.value.diagnostics
    assert d.code == "limit" and d.is_error
    assert d.span.file == file
    assert d.hint_zh and d.hint_en  # says what to do
    return d


# ---------------------------------------------------------------------------- nesting


def test_ten_thousand_parentheses_fail_fast_at_the_first_one_too_deep():
    text = "let a =\n  " + "(" * 10_000 + "1" + ")" * 10_000 + "\n"
    start = time.perf_counter()
    d = limit_error(text)
    assert time.perf_counter() - start < 1.0
    # the 101st "(" is on line 2, after two spaces of indentation and 100 others
    assert (d.span.line, d.span.column) == (2, 2 + MAX_NESTING + 1)
    assert f"{MAX_NESTING}" in d.message_zh and "嵌套过深" in d.message_zh
    assert "nested too deeply" in d.message_en
    assert "let" in d.hint_zh and "let" in d.hint_en


def test_brackets_in_texts_and_comments_do_not_count():
    body = '# ' + "(" * 500 + '\nlet a "' + "[" * 500 + '" = 1\n'
    assert parse_text(body).lets[0].name == "a"


@pytest.mark.parametrize("expr", ["not " * 5000 + "yes", "1 + " * 3000 + "1", "-" * 2000 + "1"])
def test_long_operator_chains_are_a_limit_not_a_recursion_error(expr):
    start = time.perf_counter()
    d = limit_error(f"let a = {expr}\n")
    assert time.perf_counter() - start < 5.0
    assert d.span.line == 1


def test_nesting_just_under_the_limit_runs_end_to_end(tmp_path):
    """90 chained additions and 86 'not's (tree depth below 100) still check, compile and evaluate."""
    text = NATIONAL.read_text(encoding="utf-8")
    chain = " + ".join(["students"] * 90)
    text = text.replace("value   = teachers_above_degree / students * 100", f"value   = ({chain}) / students * 100", 1)
    text = text.replace("check not falsified_data", "check " + "not " * 87 + "falsified_data")
    deep = tmp_path / "deep.qbe"
    deep.write_text(text, encoding="utf-8")
    example = ROOT / "rulesets" / "examples" / "national-2017"
    r = CliRunner().invoke(main, ["run", "--standard", str(deep), "--data", str(example / "schools.csv"),
                                  "--county-data", str(example / "counties.csv"), "-f", "json", "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "national-2017.json").is_file()


def test_deep_file_through_the_cli_is_a_located_error_not_a_traceback(tmp_path):
    bad = tmp_path / "deep.qbe"
    bad.write_text("let a = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n", encoding="utf-8")
    schools = ROOT / "rulesets" / "examples" / "national-2017" / "schools.csv"
    for cmd in (["check", str(bad)], ["fmt", "--check", str(bad)], ["run", "--standard", str(bad), "--data", str(schools)]):
        start = time.perf_counter()
        r = CliRunner().invoke(main, [*cmd, "--lang", "en"])
        assert time.perf_counter() - start < 5.0
        assert r.exit_code == 3, (cmd, r.output)
        assert f"{bad}:1:{9 + MAX_NESTING}: error[limit]" in r.output
        assert "Traceback" not in r.output and not isinstance(r.exception, RecursionError)


# ---------------------------------------------------------------------------- size


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.qbe"
    with big.open("wb") as fh:  # sparse: 50 MB on paper, nothing to read
        fh.seek(50 * 1024 * 1024)
        fh.write(b"\n")
    start = time.perf_counter()
    with pytest.raises(RulesetError) as e:
        parse_file(big)
    (d,) = e.value.diagnostics
    assert d.code == "limit" and (d.span.file, d.span.line, d.span.column) == (str(big), 1, 1)
    assert "50.0 MB" in d.message_en and f"{MAX_FILE_BYTES // (1024 * 1024)} MB" in d.message_en
    assert "规则文件过大" in d.message_zh
    for cmd in (["check", str(big)], ["fmt", str(big)]):
        r = CliRunner().invoke(main, [*cmd, "--lang", "en"])
        assert r.exit_code == 3 and "ruleset file too large" in r.output, r.output
    assert time.perf_counter() - start < 5.0
    assert big.stat().st_size == 50 * 1024 * 1024 + 1  # fmt left it alone


def test_a_large_text_is_refused_too():
    limit_error("# " + "x" * MAX_FILE_BYTES + "\nlet a = 1\n")
    limit_error("# " + "汉" * (MAX_FILE_BYTES // 3) + "\nlet a = 1\n")  # counted in UTF-8 bytes, not characters
    assert parse_text("# " + "x" * 100_000 + "\nlet a = 1\n").lets


# ---------------------------------------------------------------------------- declarations


def test_too_many_declarations_points_at_the_first_one_over():
    text = "".join(f"let v{i} = 1\n" for i in range(MAX_DECLARATIONS + 5))
    d = limit_error(text)
    assert (d.span.line, d.span.column) == (MAX_DECLARATIONS + 1, 1)
    assert str(MAX_DECLARATIONS) in d.message_zh and str(MAX_DECLARATIONS + 5) in d.message_en
    assert len(parse_text("".join(f"let v{i} = 1\n" for i in range(MAX_DECLARATIONS))).lets) == MAX_DECLARATIONS


# ---------------------------------------------------------------------------- extends


def _chain(folder: Path, n: int) -> Path:
    """s0 extends s1 extends … s(n-1), one file each."""
    for i in range(n):
        ext = f" extends s{i + 1}" if i < n - 1 else ""
        (folder / f"s{i}.qbe").write_text(f'standard s{i}{ext} {{\n    title "第{i}级"\n    version 2020\n}}\n', encoding="utf-8")
    return folder / "s0.qbe"


def test_too_long_an_extends_chain_is_located_at_the_extends_that_breaks_it(tmp_path):
    _, diags, _ = check_file(_chain(tmp_path, MAX_EXTENDS + 3))
    (d,) = [d for d in diags if d.code == "limit"]
    # s0 … s15 are 16 standards; s15 naming a 17th parent is where the chain becomes too long
    assert d.span.file == str(tmp_path / f"s{MAX_EXTENDS - 1}.qbe")
    assert (d.span.line, d.span.column) == (1, len(f"standard s{MAX_EXTENDS - 1} extends ") + 1)
    assert str(MAX_EXTENDS) in d.message_zh and "extends" in d.message_en


def test_a_chain_at_the_limit_loads(tmp_path):
    model, diags, sources = check_file(_chain(tmp_path, MAX_EXTENDS))
    assert not [d for d in diags if d.code == "limit"]
    assert len(sources) == MAX_EXTENDS


# ---------------------------------------------------------------------------- no way out


@pytest.mark.parametrize("parent", ["../secret", "/etc/passwd", "secret.qbe", "..", "a/b", "a\\b", '"../secret.qbe"'])
def test_extends_takes_an_id_never_a_path(parent):
    with pytest.raises(RulesetError) as e:
        parse_text(f'standard child extends {parent} {{\n    title "x"\n}}\n', "c.qbe")
    (d,) = e.value.diagnostics
    assert d.code == "syntax" and d.span.line == 1


def test_a_parent_outside_the_folder_is_not_found(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.qbe").write_text('standard secret {\n    title "不应被读取"\n}\n', encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "child.qbe").write_text('standard child extends secret {\n    title "x"\n}\n', encoding="utf-8")
    model, diags, sources = check_file(rules / "child.qbe")
    assert model is None
    assert [d.code for d in diags] == ["unknown_standard"]
    assert str(outside / "secret.qbe") not in sources


HEADER = """standard t-1 {
    title "测试"
    version 2020
    stages { primary "小学" }
}
inputs row {
    students: count "在校生数" unit "人" range 1..
}
"""


@pytest.mark.parametrize("call", ["__import__(students)", "eval(students)", "exec(students)", "open(students)", "getattr(students, students)"])
def test_a_ruleset_cannot_call_python(call, tmp_path):
    f = tmp_path / "p.qbe"
    f.write_text(HEADER + f'indicator a "A" {{\n    value = {call}\n    require >= 1\n}}\n', encoding="utf-8")
    model, diags, _ = check_file(f)
    assert model is None
    errors = [d for d in diags if d.is_error]
    assert errors[0].code == "unknown_name" and "unknown function" in errors[0].message_en
    assert errors[0].span.line == HEADER.count("\n") + 2


@pytest.mark.parametrize("text", ['import os\n', 'include "../x.qbe"\n', 'let a = open("/etc/passwd")\n', 'let a = `ls`\n'])
def test_there_is_no_syntax_for_imports_files_or_commands(text):
    with pytest.raises(RulesetError) as e:
        parse_text(text, "x.qbe")
    assert e.value.diagnostics[0].code == "syntax"


def test_a_long_chain_of_lets_checks_compiles_and_evaluates_quickly(tmp_path):
    """400 lets each built on the one before: linear work, no exponential walk and no recursion error.

    ``bump0 = teachers_above_degree`` and each ``bump{i} = bump{i-1} + 1``, so the last one is the
    teachers plus 399 (the example's 博雅小学 has 58 teachers above the required degree and 1,000
    pupils, so its indicator is (58 + 399) / 1000 × 100 = 45.7).
    """
    text = NATIONAL.read_text(encoding="utf-8")
    lets = "let bump0 = teachers_above_degree\n" + "".join(f"let bump{i} = bump{i - 1} + 1\n" for i in range(1, 400))
    text = text.replace("value   = teachers_above_degree / students * 100", "value   = bump399 / students * 100", 1)
    deep = tmp_path / "chain.qbe"
    deep.write_text(text + "\n" + lets, encoding="utf-8")
    example = ROOT / "rulesets" / "examples" / "national-2017"
    start = time.perf_counter()
    r = CliRunner().invoke(main, ["run", "--standard", str(deep), "--data", str(example / "schools.csv"),
                                  "--county-data", str(example / "counties.csv"), "-f", "json", "-o", str(tmp_path / "out")])
    elapsed = time.perf_counter() - start
    assert r.exit_code == 0, r.output
    assert elapsed < 60, elapsed  # a hang guard, not a timing: 50 links used to take minutes, 18 took 2.5 s
    import json

    rep = json.loads((tmp_path / "out" / "national-2017.json").read_text(encoding="utf-8"))
    boya = next(s for s in rep["schools"] if s["school_name"] == "博雅小学")
    ind = boya["indicators"]["teachers_above_degree_per100"]
    assert boya["students"] == 1000
    assert ind["value"] == pytest.approx(45.7, rel=1e-12)


def test_an_oversized_file_beside_a_ruleset_is_not_read_to_find_a_parent(tmp_path, monkeypatch):
    """Looking up a parent among sibling files, or listing standards, skips a file over the size limit
    instead of reading it whole (it could never be parsed anyway)."""
    from qbe.semantics import inherit
    from qbe.standards import _id_of

    (tmp_path / "parent.qbe").write_text('standard p-1 {\n    title "父" version 2020\n}\n', encoding="utf-8")
    child = tmp_path / "child.qbe"
    child.write_text('standard c-1 extends p-1 {\n    title "子" version 2021\n}\n', encoding="utf-8")
    big = tmp_path / "aaa-big.qbe"  # sorted first
    with big.open("wb") as fh:
        fh.write(b"standard p-1 {\n")
        fh.seek(MAX_FILE_BYTES + 10)
        fh.write(b"\n")
    read: list[str] = []
    real = Path.read_text

    def spy(self, *a, **k):
        read.append(self.name)
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", spy)
    assert inherit._sibling(child, "p-1") == tmp_path / "parent.qbe"
    assert _id_of(big) is None and _id_of(tmp_path / "parent.qbe") == "p-1"
    assert "aaa-big.qbe" not in read
