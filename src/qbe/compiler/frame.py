"""The data a plan runs over, with its groupings factorised once.

A :class:`Frame` holds the validated row table and county table, and integer
codes that map every row to its school, its county × stage group and its
county. Every group operation in the plan is a ``bincount`` over these codes,
so grouping costs one sort per key for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.schema import STAGES
from ..data.table import Table

STAGE_CODES = {v.code: i for i, v in enumerate(STAGES)}


def factorize(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 for each row's key tuple, and the first row of each group."""
    if len(keys) == 1:
        arr = np.asarray(keys[0])
        if arr.dtype == object:
            arr = arr.astype(str)
        _, first, codes = np.unique(arr, return_index=True, return_inverse=True)
        return codes.astype(np.int64), first
    parts = [factorize(k)[0] for k in keys]
    combined = parts[0]
    for p in parts[1:]:
        combined = combined * (int(p.max()) + 1 if len(p) else 1) + p
    _, first, codes = np.unique(combined, return_index=True, return_inverse=True)
    return codes.astype(np.int64), first


@dataclass
class Frame:
    rows: Table
    counties: Table | None
    n: int
    stage: np.ndarray  #: per row, index into STAGES (-1 missing)
    county_codes: np.ndarray  #: the counties, sorted (str)
    n_county: int
    row_county: np.ndarray
    county_row: np.ndarray  #: per county, its row in the county table (-1: not there)
    row_school: np.ndarray
    n_school: int
    school_first: np.ndarray  #: per school, its first row
    school_county: np.ndarray
    row_cs: np.ndarray
    n_cs: int
    cs_first: np.ndarray
    cs_county: np.ndarray
    cs_stage: np.ndarray
    bad_rows: np.ndarray
    #: item name → mask of approved exemptions at the item's level (see qbe.exemptions)
    approved: dict = field(default_factory=dict)

    def codes(self, frm: str, to: str) -> np.ndarray:
        """Group codes mapping members at level ``frm`` to groups at level ``to``."""
        if frm == "row":
            return {"school": self.row_school, "cs": self.row_cs, "county": self.row_county}[to]
        if frm == "school" and to == "county":
            return self.school_county
        if frm == "cs" and to == "county":
            return self.cs_county
        raise ValueError(f"no grouping from {frm} to {to}")

    def size(self, level: str) -> int:
        return {"row": self.n, "school": self.n_school, "cs": self.n_cs, "county": self.n_county}[level]


def _compact(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 (in sorted key order) and first rows, for integer keys."""
    _, first, codes = np.unique(keys, return_index=True, return_inverse=True)
    return codes.astype(np.int64), first


def build_frame(rows: Table, counties: Table | None) -> Frame:
    n = rows.n
    stage = rows.columns["stage"].astype(np.int16)
    # counties: the sorted distinct codes of both tables, by two dict passes rather than a sort of
    # every row's code as fixed-width text (~0.1 s at national scale)
    county = [str(v) for v in np.asarray(rows.columns["county_code"]).tolist()]
    table_codes = [str(v) for v in counties.columns["county_code"].tolist()] if counties is not None else []
    distinct = sorted(set(county).union(table_codes))
    county_codes = np.array(distinct, dtype=str)
    rank = {code: i for i, code in enumerate(distinct)}
    row_county = np.fromiter(map(rank.__getitem__, county), np.int64, n)
    county_row = np.full(len(county_codes), -1, dtype=np.int64)
    if counties is not None and len(table_codes):
        pos = np.fromiter(map(rank.__getitem__, table_codes), np.int64, len(table_codes))
        # the first row of a duplicated county wins; duplicates are reported by validation
        order = np.arange(len(table_codes))[::-1]
        county_row[pos[order]] = order
    if n:
        # schools: (county, school code) pairs; one string sort, then integer work
        school_key, _ = factorize(np.asarray(rows.columns["school_code"]))
        row_school, school_first = _compact(row_county * (int(school_key.max()) + 1) + school_key)
        row_cs, cs_first = _compact(row_county * (len(STAGE_CODES) + 1) + (stage.astype(np.int64) + 1))
    else:
        row_school = row_cs = np.zeros(0, dtype=np.int64)
        school_first = cs_first = np.zeros(0, dtype=np.int64)
    bad = rows.bad_rows if len(rows.bad_rows) == n else np.zeros(n, dtype=bool)
    return Frame(
        rows=rows,
        counties=counties,
        n=n,
        stage=stage,
        county_codes=county_codes,
        n_county=len(county_codes),
        row_county=row_county,
        county_row=county_row,
        row_school=row_school,
        n_school=len(school_first),
        school_first=school_first,
        school_county=row_county[school_first],
        row_cs=row_cs,
        n_cs=len(cs_first),
        cs_first=cs_first,
        cs_county=row_county[cs_first],
        cs_stage=stage[cs_first],
        bad_rows=bad,
    )
