"""The report's ``counties`` array, laid out from the columns without a dict per county.

A national report has ~2,850 counties, each with its CVs per stage, every
county item with its label and source, its parts and verdicts and its
findings: 90 MB of JSON and about a million small dicts when assembled as
:meth:`Evaluation.to_dict` does (a third of a second), then encoded. Here
each member is laid out for all counties at once by the column layout of the
row array (:mod:`.fastjson`): the county items and verdicts over the
counties, the CVs over the county × stage groups (then joined per county), the
findings as worded by :func:`.findings.findings_json`. The bytes are exactly
``json.dumps`` of the dicts (compact, UTF-8); tests hold the two equal on
generated data and on every bundled example.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..status import Status
from . import fastjson as fj
from .assemble import STAGE_KEYS, Evaluation, _described
from .fastjson import Part, _dumps
from .findings import findings_json


def counties_json(ev: Evaluation) -> list[bytes]:
    """Each county's JSON object, in county order (that of ``to_dict()["counties"]``)."""
    return [b"".join(pieces) for pieces in county_pieces(ev)]


def county_pieces(ev: Evaluation) -> list[tuple[bytes, ...]]:
    """Each county's JSON object as the pieces that make it, in county order: a writer joins many
    counties' pieces at once, copying the 90 MB of a national report's counties once."""
    fr = ev.frame
    nc = fr.n_county
    if nc == 0:
        return []
    rows_per = np.bincount(fr.row_county, minlength=nc) if fr.n else np.zeros(nc, dtype=np.int64)
    head: list[Part] = [
        b'{"county_code":', fj.strings([str(x) for x in np.asarray(fr.county_codes).tolist()]),
        b',"county_name":', fj.strings(ev._county_names()),
        b',"in_county_table":', fj._Lookup(np.array([b"false", b"true"]), (np.asarray(fr.county_row) >= 0).astype(np.int64)),
        b',"schools":', fj.row_numbers(rows_per),
        b',"resources":', fj.texts([_dumps(r) for r in ev.resource_counts()]),
        b',"balance":',
    ]  # fmt: skip
    heads = fj.JsonObjects(head, nc).each()
    balance, composite = _balance(ev)
    tails = fj.JsonObjects(_tail(ev), nc).each()
    found = findings_json(ev)
    return [(h, b, b',"composite_cv":', c, t, f, b"}") for h, b, c, t, f in zip(heads, balance, composite, tails, found)]


def _tail(ev: Evaluation) -> list[Part]:
    """The members after ``composite_cv``, up to the findings: items, aggregates, parts, verdicts, grades."""
    m, fr = ev.model, ev.frame
    nc = fr.n_county
    parts: list[Part] = [b',"items":{']
    for k, d in enumerate(d for d in m.decls.values() if d.kind == "item"):
        parts += [(b"," if k else b"") + _dumps(d.name).encode() + b":", *_result(d, ev._check_arrays(d, "county"))]
        notes = [(f, [str(x) for x in v.tolist()]) for f, v in ev._evidence(d).items() if v is not None]
        if notes:
            said = [{f: col[c] for f, col in notes if col[c]} for c in range(nc)]
            parts.append(fj.texts([',"evidence":' + _dumps(s) if s else "" for s in said]))
        inputs = list(ev._county_inputs(d).items())
        if inputs:
            parts.append(b',"inputs":{')
            for j, (f, col) in enumerate(inputs):
                parts += [(b"," if j else b"") + _dumps(f).encode() + b":", fj.numbers(np.array(col, dtype=np.float64))]
            parts.append(b"}")
        parts.append(b"}")
    parts.append(b'},"aggregates":{')
    for k, d in enumerate(d for d in m.decls.values() if d.kind == "aggregate"):
        parts.append((b"," if k else b"") + _dumps(d.name).encode() + b":")
        if ev.decl(d.name).level == "county":
            parts += [b'{"all":', *_result(d, ev._check_arrays(d, "county")), b"}}"]
        else:
            groups = _groups(ev)
            a = _at(ev._check_arrays(d, "cs"), groups)
            each = fj.JsonObjects([_stage_key(ev, groups), *_result(d, a), b"}"], groups.size).each()
            parts.append(fj.texts([s.decode("utf-8") for s in _per_county(ev, groups, each)]))
    parts.append(b'},"parts":{')
    for k, p in enumerate(m.parts):
        parts += [(b"," if k else b"") + _dumps(p).encode() + b":", fj.statuses(ev._part_status(p).astype(np.int64))]
    parts.append(b'},"verdicts":{')
    verdicts = list(m.of_kind("verdict"))
    for k, d in enumerate(verdicts):
        parts += [(b"," if k else b"") + _dumps(d.name).encode() + b":", fj.statuses(ev.status(d.name))]
    main = ev.county_verdict()
    parts += [b'},"verdict":', fj.statuses(ev.status(main)) if main else b'"not_assessed"', b',"grades":{']
    for k, d in enumerate(d for d in verdicts if d.grades):
        parts += [(b"," if k else b"") + _dumps(d.name).encode() + b":", fj.strings(ev.grade_labels(d.name, "county"))]
    parts.append(b'},"findings":')
    return parts


def _result(d: Any, a: dict[str, Any]) -> list[Part]:
    """A county item's or aggregate's result (``_checks_at(..., full=True)``), without the closing brace
    where more members follow (the caller closes it)."""
    n = len(a["codes"])
    described = _dumps(_described(d)).encode()
    return [b'{"value":', *fj._check_parts(a, n, end=b""), b"," + described[1:-1]]


def _groups(ev: Evaluation) -> np.ndarray:
    """The county × stage groups of a known stage, in group order (the order of each county's stages)."""
    stage = np.asarray(ev.frame.cs_stage)
    return np.flatnonzero((stage >= 0) & (stage < len(STAGE_KEYS)))


def _stage_key(ev: Evaluation, groups: np.ndarray) -> Part:
    """``"primary":`` and the like, for each group."""
    keys = np.array([(_dumps(k) + ":").encode() for k in STAGE_KEYS])
    return fj._Lookup(keys, np.asarray(ev.frame.cs_stage)[groups].astype(np.int64))


def _at(a: dict[str, Any], groups: np.ndarray) -> dict[str, Any]:
    """A declaration's result columns (:meth:`Evaluation._check_arrays`) for some groups only."""
    gl = groups.tolist()
    return {
        "value": np.asarray(a["value"])[groups],
        "required": np.asarray(a["required"])[groups],
        "ratio": np.asarray(a["ratio"])[groups],
        "codes": np.asarray(a["codes"])[groups],
        "status": [a["status"][g] for g in gl],
        "op": a["op"],
        "reason": None if a.get("reason") is None else [a["reason"][g] for g in gl],
        "grade": None if a.get("grade") is None else [a["grade"][g] for g in gl],
    }


def _per_county(ev: Evaluation, groups: np.ndarray, each: list[bytes]) -> list[bytes]:
    """Each county's groups' members joined into one object, ``{}`` for a county without any."""
    acc: list[list[bytes]] = [[] for _ in range(ev.frame.n_county)]
    for c, text in zip(np.asarray(ev.frame.cs_county)[groups].tolist(), each):
        acc[c].append(text)
    return [b"{" + b",".join(x) + b"}" for x in acc]


def _balance(ev: Evaluation) -> tuple[list[bytes], list[bytes]]:
    """Each county's ``balance`` and ``composite_cv`` objects, laid out over the county × stage groups."""
    fr = ev.frame
    nc = fr.n_county
    groups = _groups(ev)
    members = ev.balance_columns()
    if not groups.size:
        return [b"{}"] * nc, [b"{}"] * nc
    gl = groups.tolist()
    balance: list[bytes] = [b"{}"] * nc
    if members:
        parts: list[Part] = [_stage_key(ev, groups), b"{"]
        for j, (ind, d, b) in enumerate(members):
            exempt = np.asarray(b["exempt"])[groups]
            st = np.where(exempt, int(Status.EXEMPT), np.asarray(b["status"])[groups]).astype(np.int64)
            fixes = ev._balance_remedy(d, b["nodes"])
            why = b["reason"]
            more = []  # an exempt CV says why (where a reason is known), one over its limit what would fix it
            for i, g in enumerate(gl):
                if exempt[i]:
                    more.append(',"reason":' + _dumps(why[g]) if why is not None and why[g] is not None else "")
                else:
                    more.append(',"remedy":' + _dumps(fixes[g]) if g in fixes else "")
            parts += [
                (b"," if j else b"") + _dumps(ind).encode() + b':{"cv":', fj.numbers(b["cv"][groups]),
                b',"limit":', fj.numbers(b["limit"][groups]), b',"met":', fj.mets(st),
                b',"status":', fj.statuses(st), b',"mean":', fj.numbers(b["mean"][groups]),
                b',"schools":', fj.row_numbers(b["count"][groups]),
                fj.where(np.array([bool(x) for x in more]), fj.texts(more)), b"}",
            ]  # fmt: skip
        parts.append(b"}")
        balance = _per_county(ev, groups, fj.JsonObjects(parts, groups.size).each())
    composite: list[bytes] = [b"{}"] * nc
    comp = ev.composite_cv()
    if comp is not None:
        parts = [_stage_key(ev, groups), fj.numbers(comp[groups])]
        composite = _per_county(ev, groups, fj.JsonObjects(parts, groups.size).each())
    return balance, composite
