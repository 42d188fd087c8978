"""Inline SVG charts for the HTML report, drawn in Python with no library.

Every chart is a string of ``<svg>`` markup meant to sit inside an HTML page:
no ``xmlns`` (an inline SVG needs none, and the report must not contain a
single URL), no external fonts or images, and colours given as attributes so
a chart keeps them when copied out. Each chart is accessible on its own: it
has ``role="img"``, a ``<title>`` and a ``<desc>``, every mark carries its
value in a ``<title>`` where it matters, and a status is told by a symbol or
a word as well as by its colour.

The three charts of the report:

* :func:`cv_chart` — each coefficient of variation against its limit, one bar
  per indicator of a stage, with the limit drawn as a line across the bar;
* :func:`strip_chart` — each school's value as a percentage of the
  requirement, one strip per indicator, with the 85% and 100% lines;
* :func:`count_bars` and :func:`stacked_bars` — the county verdicts counted,
  and each part's status across the counties.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

#: Fill colour of each status (bars, dots) and the darker tone used for text.
FILL = {"met": "#43a047", "not_met": "#d32f2f", "tolerated": "#f08c00", "exempt": "#1e88e5",
        "not_applicable": "#9e9e9e", "not_assessed": "#8e24aa"}
INK = {"met": "#1b5e20", "not_met": "#b71c1c", "tolerated": "#8a4b00", "exempt": "#0d47a1",
       "not_applicable": "#555555", "not_assessed": "#4a148c"}
#: A symbol for each status, so that no status is told by colour alone.
SYMBOL = {"met": "✓", "not_met": "✗", "tolerated": "△", "exempt": "◇", "not_applicable": "—", "not_assessed": "?"}
WORD = {"met": "达标", "not_met": "未达标", "tolerated": "容许", "exempt": "豁免",
        "not_applicable": "不适用", "not_assessed": "未评估"}
#: The order statuses are listed in: problems first.
RANK = {"not_met": 0, "not_assessed": 1, "tolerated": 2, "exempt": 3, "met": 4, "not_applicable": 5}

FONT = "font-family=\"inherit\""
AXIS = "#444444"
GRID = "#d9d9d9"


def text(s: object) -> str:
    """Escape text for HTML or SVG, and write ``://`` so no URL appears in the file.

    A data value such as an evidence note may hold a web address. It is shown
    as text (a browser never fetches text), and its colon is written as the
    character reference ``&#58;`` so the file itself contains no ``http://``:
    the report can then be checked mechanically for external references.
    """
    return escape("" if s is None else str(s), quote=True).replace("://", "&#58;//")


def _n(x: float) -> str:
    """A coordinate with at most one decimal, no trailing zeros (small files)."""
    r = round(x, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def shorten(label: str, limit: int) -> str:
    """``label`` cut to ``limit`` characters with an ellipsis (the full text goes in a title)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


class Ids:
    """Document-unique ids for the charts' ``<title>``/``<desc>`` references."""

    def __init__(self, prefix: str = "ch") -> None:
        self.prefix = prefix
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n}"


def _open(ids: Ids, width: float, height: float, title: str, desc: str, cls: str) -> list[str]:
    i = ids()
    return [
        f'<svg class="chart {cls}" role="img" aria-labelledby="{i}t {i}d" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" font-size="12" {FONT}>',
        f'<title id="{i}t">{text(title)}</title>',
        f'<desc id="{i}d">{text(desc)}</desc>',
    ]


def nice_max(x: float) -> float:
    """A round upper bound at or above ``x`` (1, 2, 2.5, 5 times a power of ten)."""
    if x <= 0 or not math.isfinite(x):
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * p >= x - 1e-12:
            return m * p
    return 10 * p


def _ticks(hi: float, n: int = 5) -> list[float]:
    step = nice_max(hi / n)
    out, v = [], 0.0
    while v <= hi + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _fmt_tick(v: float) -> str:
    return f"{v:.3g}"


# --------------------------------------------------------------------------- (a) CV against limit


@dataclass
class CvBar:
    label: str
    cv: float | None
    limit: float | None
    status: str


def cv_chart(ids: Ids, title: str, bars: Sequence[CvBar], width: int = 760) -> str:
    """One stage: a bar per indicator for its CV, a vertical line at its limit, status in words."""
    label_w, value_w, row_h, top, bottom = 300, 118, 30, 14, 34
    x0, x1 = label_w + 8, width - value_w
    hi = nice_max(max([b.cv or 0 for b in bars] + [b.limit or 0 for b in bars] + [0.0]) * 1.1)
    scale = (x1 - x0) / hi
    height = top + row_h * len(bars) + bottom
    over = [b.label for b in bars if b.status == "not_met"]
    desc = (f"{len(bars)} 项指标的校际差异系数（柱）与限值（竖线）。"
            + (f"超过限值：{'、'.join(over)}。" if over else "均未超过限值。"))
    out = _open(ids, width, height, title, desc, "cv-chart")
    for t in _ticks(hi):
        x = x0 + t * scale
        out.append(f'<line x1="{_n(x)}" y1="{top - 4}" x2="{_n(x)}" y2="{_n(height - bottom + 4)}" stroke="{GRID}"/>')
        out.append(f'<text x="{_n(x)}" y="{_n(height - bottom + 18)}" text-anchor="middle" fill="{AXIS}">{_fmt_tick(t)}</text>')
    for i, b in enumerate(bars):
        y = top + i * row_h
        cy = y + row_h / 2
        st = b.status if b.status in FILL else "not_assessed"
        cv_txt = "—" if b.cv is None else f"{b.cv:.3f}"
        lim_txt = "—" if b.limit is None else f"{b.limit:g}"
        out.append('<g class="cv-row">')
        out.append(f'<text x="{label_w}" y="{_n(cy + 4)}" text-anchor="end" fill="#222222">'
                   f'<title>{text(b.label)}</title>{text(shorten(b.label, 25))}</text>')
        w = 0.0 if b.cv is None else max(b.cv * scale, 1.0)
        out.append(f'<rect class="cv-bar s-{st}" x="{x0}" y="{_n(y + 6)}" width="{_n(w)}" height="{row_h - 12}" '
                   f'fill="{FILL[st]}" data-status="{st}"><title>{text(b.label)}：差异系数 {cv_txt}，限值 {lim_txt}，'
                   f'{WORD[st]}</title></rect>')
        if b.limit is not None:
            lx = x0 + b.limit * scale
            out.append(f'<line class="cv-limit" x1="{_n(lx)}" y1="{_n(y + 2)}" x2="{_n(lx)}" y2="{_n(y + row_h - 2)}" '
                       f'stroke="#111111" stroke-width="2"><title>限值 {lim_txt}</title></line>')
        out.append(f'<text x="{x1 + 8}" y="{_n(cy + 4)}" fill="{INK[st]}">{cv_txt} {SYMBOL[st]} {WORD[st]}</text>')
        out.append("</g>")
    out.append(f'<line x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{_n(height - bottom + 4)}" stroke="{AXIS}"/>')
    out.append(f'<text x="{x0}" y="{height - 2}" fill="{AXIS}">柱：差异系数 · 竖线：限值（差异系数不超过限值为达标）</text>')
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- (b) % of requirement


@dataclass
class Point:
    ratio: float
    status: str
    name: str  #: shown in the mark's title, e.g. "博雅小学（小学）"


@dataclass
class Strip:
    label: str
    points: list[Point]
    unassessed: int = 0  #: rows with no ratio (not assessed), counted beside the strip


def _mark(st: str, x: float, y: float) -> str:
    """A status drawn as a shape: circle met, diamond tolerated, cross not met, ring exempt."""
    if st == "not_met":
        d = 4
        return (f'<path d="M{_n(x - d)} {_n(y - d)}L{_n(x + d)} {_n(y + d)}M{_n(x - d)} {_n(y + d)}L{_n(x + d)} {_n(y - d)}" '
                f'stroke="{FILL[st]}" stroke-width="2.2" fill="none">')
    if st == "tolerated":
        d = 4.5
        return (f'<path d="M{_n(x)} {_n(y - d)}L{_n(x + d)} {_n(y)}L{_n(x)} {_n(y + d)}L{_n(x - d)} {_n(y)}Z" '
                f'fill="{FILL[st]}" stroke="#5d3800" stroke-width="0.8">')
    if st == "exempt":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.6" fill="none" stroke="{FILL[st]}" stroke-width="1.6">'
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.6" fill="{FILL.get(st, FILL["not_assessed"])}">'


def _close(mark: str) -> str:
    return "</path>" if mark.startswith("<path") else "</circle>"


def strip_chart(ids: Ids, title: str, strips: Sequence[Strip], width: int = 760) -> str:
    """A strip per indicator: each school-stage row as a mark at its % of the requirement.

    All strips share one axis so the 85% and 100% lines line up; values above
    the axis end (200%) are drawn at its end. Met rows are plain dots with no
    title (there may be thousands); every row short of the requirement has a
    title naming the school and its percentage, and a shape for its status.
    """
    label_w, right_w, row_h, top, bottom = 250, 128, 28, 24, 50
    x0, x1 = label_w + 10, width - right_w
    ratios = [p.ratio for s in strips for p in s.points]
    lo = max(0.0, min(0.5, math.floor(min(ratios, default=1.0) * 10) / 10))
    hi = min(2.0, max(1.3, math.ceil(max(ratios, default=1.0) * 10) / 10))
    scale = (x1 - x0) / (hi - lo)

    def px(r: float) -> float:
        return x0 + (min(max(r, lo), hi) - lo) * scale

    height = top + row_h * len(strips) + bottom
    short = sum(1 for s in strips for p in s.points if p.ratio < 1 - 1e-9)
    desc = (f"{len(strips)} 项指标，每个点为一所学校（学段）达到要求的百分比；竖线为 85% 与 100%。"
            f"低于 100% 的共 {short} 个。")
    out = _open(ids, width, height, title, desc, "strip-chart")
    for t in [v / 100 for v in range(0, 201, 25)]:
        if lo - 1e-9 <= t <= hi + 1e-9 and abs(t - 1) > 1e-9:
            x = px(t)
            out.append(f'<line x1="{_n(x)}" y1="{top - 2}" x2="{_n(x)}" y2="{_n(height - bottom)}" stroke="{GRID}"/>')
            out.append(f'<text x="{_n(x)}" y="{_n(height - bottom + 14)}" text-anchor="middle" fill="{AXIS}">{round(t * 100)}%</text>')
    for i, s in enumerate(strips):
        y = top + i * row_h
        cy = y + row_h / 2
        out.append('<g class="strip">')
        out.append(f'<text x="{label_w}" y="{_n(cy + 4)}" text-anchor="end" fill="#222222">'
                   f'<title>{text(s.label)}</title>{text(shorten(s.label, 19))}</text>')
        out.append(f'<line x1="{x0}" y1="{_n(cy)}" x2="{x1}" y2="{_n(cy)}" stroke="#eeeeee" stroke-width="{row_h - 8}"/>')
        met = [p for p in s.points if p.status == "met"]
        rest = sorted((p for p in s.points if p.status != "met"), key=lambda p: -RANK.get(p.status, 9))
        if met:
            out.append(f'<g class="dots-met" fill="{FILL["met"]}" fill-opacity="0.55">')
            for j, p in enumerate(met):
                out.append(f'<circle cx="{_n(px(p.ratio))}" cy="{_n(cy + _jitter(j))}" r="3"/>')
            out.append("</g>")
        for j, p in enumerate(rest):
            mark = _mark(p.status, px(p.ratio), cy + _jitter(j + len(met)))
            pct = f"{math.floor(p.ratio * 100 + 1e-7)}%"
            out.append(f'{mark[:-1]} class="dot s-{p.status}"><title>{text(p.name)}：{pct}，'
                       f'{WORD.get(p.status, p.status)}</title>{_close(mark)}')
        n_short = sum(1 for p in s.points if p.ratio < 1 - 1e-9)
        note = f"{n_short} 个 <100%" if n_short else f"{len(s.points)} 个 ✓"
        if s.unassessed:
            note += f" · {s.unassessed} 个?"
        out.append(f'<text x="{x1 + 8}" y="{_n(cy + 4)}" fill="{INK["not_met"] if n_short else INK["met"]}">{text(note)}</text>')
        out.append("</g>")
    bottom_y = height - bottom
    for r, dash, name in ((0.85, ' stroke-dasharray="5 3"', "ref-85"), (1.0, "", "ref-100")):
        if lo <= r <= hi:
            x = px(r)
            out.append(f'<line class="{name}" x1="{_n(x)}" y1="{top - 8}" x2="{_n(x)}" y2="{_n(bottom_y)}" stroke="#111111" '
                       f'stroke-width="1.5"{dash}><title>{round(r * 100)}% 线</title></line>')
            out.append(f'<text x="{_n(x)}" y="{top - 11}" text-anchor="middle" font-weight="bold">{round(r * 100)}%</text>')
    lx, ly = 10, height - 12
    legend = [("met", "达标"), ("tolerated", "容许（85%–100%）"), ("not_met", "未达标"), ("exempt", "豁免")]
    for st, word in legend:
        mark = _mark(st, lx + 5, ly - 4)
        out.append(mark + _close(mark))
        out.append(f'<text x="{_n(lx + 13)}" y="{ly}" fill="{AXIS}">{word}</text>')
        lx += 30 + 12 * len(word)
    if any(s.unassessed for s in strips):
        out.append(f'<text x="{_n(lx)}" y="{ly}" fill="{INK["not_assessed"]}">?：未评估，不画点</text>')
    if hi >= 2.0:
        out.append(f'<text x="{width - 4}" y="{ly}" text-anchor="end" fill="{AXIS}">超过 200% 的画在 200% 处</text>')
    out.append("</svg>")
    return "".join(out)


def _jitter(j: int) -> float:
    """A fixed vertical offset per mark (golden-ratio sequence), so piles of dots spread out."""
    return ((j * 0.6180339887) % 1.0 - 0.5) * 14


# --------------------------------------------------------------------------- (c) verdict summary


@dataclass
class Count:
    label: str
    n: int
    status: str


def count_bars(ids: Ids, title: str, counts: Sequence[Count], total_label: str = "个区县", width: int = 760) -> str:
    """A horizontal bar per verdict (or grade), its count and share written beside it."""
    label_w, value_w, row_h, top, bottom = 130, 110, 30, 8, 10
    x0, x1 = label_w + 8, width - value_w
    total = sum(c.n for c in counts) or 1
    hi = max([c.n for c in counts] + [1])
    height = top + row_h * len(counts) + bottom
    desc = "；".join(f"{c.label} {c.n}" for c in counts) + f"（共 {total} {total_label}）"
    out = _open(ids, width, height, title, desc, "verdict-chart")
    for i, c in enumerate(counts):
        y = top + i * row_h
        st = c.status if c.status in FILL else "not_assessed"
        w = max((x1 - x0) * c.n / hi, 1.0 if c.n else 0.0)
        out.append(f'<text x="{label_w}" y="{_n(y + row_h / 2 + 4)}" text-anchor="end" fill="{INK[st]}">'
                   f'{SYMBOL[st]} {text(shorten(c.label, 12))}</text>')
        out.append(f'<rect class="count-bar s-{st}" x="{x0}" y="{_n(y + 5)}" width="{_n(w)}" height="{row_h - 10}" '
                   f'fill="{FILL[st]}"><title>{text(c.label)}：{c.n}</title></rect>')
        out.append(f'<text x="{_n(x0 + w + 6)}" y="{_n(y + row_h / 2 + 4)}" fill="#222222">{c.n}'
                   f'（{100 * c.n / total:.1f}%）</text>')
    out.append("</svg>")
    return "".join(out)


@dataclass
class Stack:
    label: str
    counts: dict[str, int]  #: status → counties


def stacked_bars(ids: Ids, title: str, stacks: Sequence[Stack], width: int = 760) -> str:
    """Each part as one bar split by status across the counties; the counts are written out too."""
    label_w, value_w, row_h, top, bottom = 190, 170, 30, 8, 10
    x0, x1 = label_w + 8, width - value_w
    height = top + row_h * len(stacks) + bottom
    desc = "；".join(f"{s.label}：" + "，".join(f"{WORD.get(k, k)} {v}" for k, v in _ordered(s.counts)) for s in stacks)
    out = _open(ids, width, height, title, desc, "parts-chart")
    for i, s in enumerate(stacks):
        y = top + i * row_h
        total = sum(s.counts.values()) or 1
        out.append(f'<text x="{label_w}" y="{_n(y + row_h / 2 + 4)}" text-anchor="end" fill="#222222">'
                   f'<title>{text(s.label)}</title>{text(shorten(s.label, 15))}</text>')
        x = float(x0)
        for k, v in _ordered(s.counts):
            w = (x1 - x0) * v / total
            st = k if k in FILL else "not_assessed"
            out.append(f'<rect class="part-seg s-{st}" x="{_n(x)}" y="{_n(y + 5)}" width="{_n(w)}" height="{row_h - 10}" '
                       f'fill="{FILL[st]}" stroke="#ffffff"><title>{text(s.label)}：{WORD.get(k, k)} {v}</title></rect>')
            if w >= 26:
                out.append(f'<text x="{_n(x + w / 2)}" y="{_n(y + row_h / 2 + 4)}" text-anchor="middle" fill="#ffffff" '
                           f'font-weight="bold">{SYMBOL[st]}{v if total > 1 else ""}</text>')
            x += w
        words = " ".join(f"{SYMBOL.get(k, '')}{WORD.get(k, k)} {v}" for k, v in _ordered(s.counts))
        out.append(f'<text x="{x1 + 8}" y="{_n(y + row_h / 2 + 4)}" fill="#222222">{text(words)}</text>')
    out.append("</svg>")
    return "".join(out)


def _ordered(counts: dict[str, int]) -> Iterable[tuple[str, int]]:
    return sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: RANK.get(kv[0], 9))
