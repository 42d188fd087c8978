"""The one small set of verdict statuses every result uses.

Designed once for everything that comes later: a judged thing is met, not
met, tolerated (failed its own requirement but a rule accepts it, like the
85% rule), exempt (an approved exemption applies), not applicable (out of its
scope: a rule for small schools on a large school) or not assessed (no data,
bad data, or an undefined value such as a CV whose mean is 0). There is no
silent state: everything evaluated gets one of these.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    MET = 1  #: 达标
    NOT_MET = 2  #: 未达标
    TOLERATED = 3  #: 未达标但按规则容许（如不低于要求的85%）
    EXEMPT = 4  #: 豁免
    NOT_APPLICABLE = 5  #: 不适用
    NOT_ASSESSED = 6  #: 未评估（无数据或数据有误）

    @property
    def key(self) -> str:
        return _KEYS[self]

    @property
    def zh(self) -> str:
        return _ZH[self]

    @property
    def en(self) -> str:
        return _KEYS[self].replace("_", " ")

    @property
    def ok(self) -> bool:
        """Does this status let a 'must be met' rule pass?"""
        return self in (Status.MET, Status.TOLERATED, Status.EXEMPT, Status.NOT_APPLICABLE)


_KEYS = {
    Status.MET: "met",
    Status.NOT_MET: "not_met",
    Status.TOLERATED: "tolerated",
    Status.EXEMPT: "exempt",
    Status.NOT_APPLICABLE: "not_applicable",
    Status.NOT_ASSESSED: "not_assessed",
}
_ZH = {
    Status.MET: "达标",
    Status.NOT_MET: "未达标",
    Status.TOLERATED: "容许",
    Status.EXEMPT: "豁免",
    Status.NOT_APPLICABLE: "不适用",
    Status.NOT_ASSESSED: "未评估",
}

STATUS_KEYS = tuple(_KEYS[s] for s in Status)
