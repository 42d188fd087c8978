"""Which statuses the test cases exercised, per declaration of the standard.

A rule author wants to know whether any case makes an indicator fail, or is
saved by the 85% rule, or is exempt: a declaration never seen in a status it
can take is listed as uncovered. What counts as "can take": every judged
declaration can be met and not met; an indicator that a ``rest >= p%`` rule or a
``tolerate when`` clause can save can also be tolerated; one with an ``exempt
when`` clause can be exempt. Statuses are read from the evaluation of every case
(what the data produced), whether or not an expectation states them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..results.assemble import Evaluation
from ..semantics import Model
from ..status import Status

#: The declaration kinds coverage is reported for.
KINDS = ("indicator", "rule", "balance", "item", "verdict")
_KIND_ZH = {"indicator": "指标", "rule": "规则", "balance": "差异系数", "item": "县级项目", "verdict": "结论"}


@dataclass
class Coverage:
    """Statuses seen per declaration, over every case of a standard."""

    model: Model
    seen: dict[str, set[str]] = field(default_factory=dict)
    wanted: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, model: Model) -> Coverage:
        cov = cls(model)
        for d in model.decls.values():
            if d.kind not in KINDS:
                continue
            want = ["met", "not_met"]
            if d.kind == "indicator" or d.tolerate:
                want.append("tolerated")
            if d.exempt:
                want.append("exempt")
            cov.seen[d.name] = set()
            cov.wanted[d.name] = tuple(want)
        return cov

    def add(self, ev: Evaluation) -> None:
        """Record the statuses of one case's evaluation."""
        plan = ev.plan
        for name in self.seen:
            o = plan.decls.get(name)
            if o is None:
                continue
            if o.kind == "indicator" and not o.tolerated_by and not self.model.decls[name].tolerate:
                # no rule can tolerate it: do not ask for a 'tolerated' case
                self.wanted[name] = tuple(w for w in self.wanted[name] if w != "tolerated")
            arrays = [ev.arr(st, "cs") for (_, _, _, st, _) in o.balance.values()] if o.kind == "balance" \
                else [ev.arr(o.final, o.level)]
            for a in arrays:
                if a is None or np.size(a) == 0:
                    continue
                for v in np.unique(np.asarray(a)).tolist():
                    if int(v) in Status._value2member_map_:
                        self.seen[name].add(Status(int(v)).key)

    def uncovered(self) -> list[tuple[str, str, list[str]]]:
        """(kind, name, statuses never seen) for every declaration missing one it can take."""
        out = []
        for name, seen in self.seen.items():
            missing = [w for w in self.wanted[name] if w not in seen]
            if missing:
                out.append((self.model.decls[name].kind, name, missing))
        return out

    def lines(self, lang: str) -> list[str]:
        total = len(self.seen)
        gaps = self.uncovered()
        full = total - len(gaps)
        if lang == "zh":
            head = f"覆盖：{self.model.id} 共 {total} 项声明，{full} 项各种状态均已出现"
        else:
            head = f"coverage: {self.model.id}: {full} of {total} declarations seen in every status they can take"
        out = [head]
        groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
        for kind, name, missing in gaps:  # one line per kind and gap, naming every declaration that has it
            seen = tuple(sorted(self.seen[name], key=lambda k: Status[k.upper()]))
            groups.setdefault((kind, tuple(missing), seen), []).append(name)
        for (kind, missing, seen), names in groups.items():
            if lang == "zh":
                miss = "、".join(f"{Status[m.upper()].zh}（{m}）" for m in missing)
                got = "、".join(Status[s.upper()].zh for s in seen) or "无"
                out.append(f"  未覆盖 {_KIND_ZH[kind]}（从未出现 {miss}；已出现 {got}）：{', '.join(names)}")
            else:
                got = ", ".join(seen) or "none"
                out.append(f"  uncovered {kind} (never {', '.join(missing)}; seen {got}): {', '.join(names)}")
        return out
