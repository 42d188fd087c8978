"""The export's columns, and what each one is called in qbe.

The reporting system writes two header rows: a group row (“所在区县”,
“办学规模”, “专任教师（人）” …, each merged across its columns) above the field
row. A field is therefore named by its group and its own text: the export has
two columns called “间数（间）”, one under “音乐专用教室” and one under
“美术专用教室”. Fields that belong to no group span both header rows (the
group row holds their text and the field row is empty, as Excel shows a
vertically merged cell).

Only the export's names are listed here; qbe's canonical column names are
stable (they are what ``schools.csv`` of every example uses), so this table
is the whole contract between the two.
"""

from __future__ import annotations

import unicodedata
from typing import Any

#: (group, field) → qbe's column name. ``None`` as the group: a field without a group.
COLUMNS: dict[tuple[str | None, str], str] = {
    (None, "学校标识码"): "school_code",
    (None, "学校名称"): "school_name",
    ("所在区县", "区县代码"): "county_code",
    ("所在区县", "区县名称"): "county_name",
    (None, "办学类型"): "school_type",
    (None, "城乡分类代码"): "urban",
    (None, "学段名称"): "stage",
    ("办学规模", "在校学生数（人）"): "students",
    ("办学规模", "教学班数（个）"): "classes",
    ("办学规模", "最大班额（人）"): "max_class_size",
    ("办学规模", "设计规模（人）"): "design_capacity",
    ("专任教师（人）", "高于规定学历"): "teachers_above_degree",
    ("专任教师（人）", "县级及以上骨干"): "backbone_teachers",
    ("专任教师（人）", "体育艺术学科"): "pe_art_teachers",
    ("校舍及场地面积（平方米）", "教学及辅助用房"): "teaching_area_m2",
    ("校舍及场地面积（平方米）", "体育运动场馆"): "sports_area_m2",
    ("办学条件", "教学仪器设备值（元）"): "equipment_value_yuan",
    ("办学条件", "网络多媒体教室（间）"): "multimedia_rooms",
    ("音乐专用教室", "间数（间）"): "music_rooms",
    ("音乐专用教室", "最小面积（平方米）"): "music_room_min_area_m2",
    ("美术专用教室", "间数（间）"): "art_rooms",
    ("美术专用教室", "最小面积（平方米）"): "art_room_min_area_m2",
    ("经费", "公用经费拨付总额（元）"): "public_funds_yuan",
    ("经费", "教师培训经费占公用经费比例（%）"): "training_spend_share",
}

#: Columns the export always has that no qbe standard reads: left out, so that
#: qbe does not warn about them. Any *other* unknown column is passed on under
#: its own text, and qbe reports it as unused: the sign of a new export version.
IGNORED: frozenset[tuple[str | None, str]] = frozenset(
    {
        (None, "序号"),
        ("专任教师（人）", "合计"),
    }
)

#: Text in the first row of every export sheet; how the loader recognises the file.
MARKER = "省教育统计报表系统导出"

#: The first cell of the totals row, after which only notes follow.
TOTAL_LABELS = frozenset({"总计", "合计"})


def key(text: Any) -> str:
    """Compare-form of a header cell: NFKC (full-width brackets → ASCII), no whitespace."""
    if text is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


_LOOKUP = {(key(g) if g else None, key(f)): name for (g, f), name in COLUMNS.items()}
_IGNORED = {(key(g) if g else None, key(f)) for g, f in IGNORED}


def qbe_name(group: str | None, field: str) -> str | None:
    """qbe's column name for a (group, field) header, or ``None`` if the plugin does not know it."""
    return _LOOKUP.get((key(group) if group else None, key(field)))


def is_ignored(group: str | None, field: str) -> bool:
    return (key(group) if group else None, key(field)) in _IGNORED


# --------------------------------------------------------------------------- values


def urban(value: Any) -> Any:
    """城乡分类代码 → 是/否, by the national statistical urban-rural classification.

    Codes 1xx (111 主城区, 112 城乡结合区, 121 镇中心区, 122 镇乡结合区, 123 特殊区域)
    are urban, 2xx (210 乡中心区, 220 村庄) rural. Anything else is handed on as it
    is, so that qbe reports it as a value it cannot accept.
    """
    if value is None:
        return None
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    code = text[:3]
    if len(code) == 3 and code.isdigit():
        if code[0] == "1":
            return "是"
        if code[0] == "2":
            return "否"
    return value


def percent_points(value: Any) -> Any:
    """A “（%）” column holds percentage points (6 means 6%): hand qbe the text “6%”."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text or text.endswith("%"):
        return text or None
    return text + "%"


#: Cell translations by qbe column name; every other cell is handed on untouched.
VALUES = {
    "urban": urban,
    "training_spend_share": percent_points,
}
