"""Extract the skeleton of every numbered provision from the four source texts.

Each parser walks one document's lines and returns raw provisions: id, section path, the article
number as written, the lead phrase, the verbatim text, and (where the document states it) the
责任单位. Figures and deadlines are found by `find_targets` and `find_deadlines`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

CN_NUMERALS = {
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}


def cn_to_int(numeral: str) -> int:
    """Convert a Chinese numeral from 一 to 九十九 to an int."""
    if numeral == "十":
        return 10
    if numeral.startswith("十"):
        return 10 + CN_NUMERALS[numeral[1]]
    if numeral.endswith("十"):
        return CN_NUMERALS[numeral[0]] * 10
    if "十" in numeral:
        tens, ones = numeral.split("十")
        return CN_NUMERALS[tens] * 10 + CN_NUMERALS[ones]
    return CN_NUMERALS[numeral]


@dataclass
class RawProvision:
    """A provision as found in the source, before registry matching."""

    id: str
    section_path: List[str]
    article: str
    title: str
    text: str
    line: int
    responsibility_text: Optional[str] = None
    extra: Dict[str, str] = field(default_factory=dict)


SECTION_RE = re.compile(r"^\s*([一二三四五六七八九十]+)、(.+?)\s*$")
CN_ITEM_RE = re.compile(r"^\s*[（(]([一二三四五六七八九十]+)[）)]\s*(.*?)\s*$")
ARABIC_PAREN_RE = re.compile(r"^\s*（(\d+)）\s*(.+?)\s*$")
ARABIC_ITEM_RE = re.compile(r"^\s*(?:\[bookmark: _GoBack\])?(\d+)\.\s*(.+?)\s*$")


def _lead(text: str) -> Tuple[str, str]:
    """Split "标题。正文" into the lead phrase and the whole text."""
    head, sep, _ = text.partition("。")
    return (head, text) if sep and len(head) <= 40 else ("", text)


def _strip_lines(text: str) -> List[Tuple[int, str]]:
    """Number the lines of a text from 1, keeping their content."""
    return list(enumerate(text.split("\n"), start=1))


def parse_shanghai_ipa(text: str) -> List[RawProvision]:
    """沪知局〔2023〕9号: （1）指导思想, （2）主要目标, 1–19, 保障措施（一）–（三）."""
    lines = _strip_lines(text)
    out: List[RawProvision] = []
    section, subsection = "", ""
    started = False
    index = 0
    while index < len(lines):
        number, line = lines[index]
        index += 1
        stripped = line.strip()
        if not stripped:
            continue
        match = SECTION_RE.match(line)
        if match and stripped.startswith(match.group(1) + "、") and len(stripped) < 20:
            section, subsection, started = stripped, "", True
            continue
        if not started:
            continue
        match = ARABIC_PAREN_RE.match(line)
        if match and section.startswith("一、"):
            heading = match.group(2)
            body_lines: List[str] = []
            first = 0
            while index < len(lines) and not SECTION_RE.match(lines[index][1]) and not ARABIC_PAREN_RE.match(lines[index][1]):
                if lines[index][1].strip():
                    first = first or lines[index][0]
                    body_lines.append(lines[index][1])
                index += 1
            ident = {"指导思想": "shipa-guiding", "主要目标": "shipa-goals"}[heading]
            out.append(RawProvision(ident, [section], f"（{match.group(1)}）", heading,
                                    "\n".join(body_lines), first))
            continue
        match = CN_ITEM_RE.match(line)
        if match:
            subsection = stripped
            if section.startswith("三、"):
                body_number, body = lines[index]
                index += 1
                num = cn_to_int(match.group(1))
                out.append(RawProvision(f"shipa-safeguard-{num}", [section], f"（{match.group(1)}）",
                                        match.group(2), body.strip(), body_number))
            continue
        match = ARABIC_ITEM_RE.match(line)
        if match and section.startswith("二、"):
            title, body = _lead(match.group(2))
            out.append(RawProvision(f"shipa-{int(match.group(1))}", [section, subsection],
                                    f"{match.group(1)}.", title, body, number))
    return out


def parse_datong(text: str) -> List[RawProvision]:
    """Datong: (一)–(十六) under five sections."""
    out: List[RawProvision] = []
    section = ""
    for number, line in _strip_lines(text):
        stripped = line.strip()
        match = SECTION_RE.match(line)
        if match and not stripped.startswith("("):
            section = stripped
            continue
        match = CN_ITEM_RE.match(line)
        if match and section:
            num = cn_to_int(match.group(1))
            title, body = _lead(match.group(2))
            out.append(RawProvision(f"datong-{num}", [section], f"({match.group(1)})", title, body, number))
    return out


def parse_cnipa(text: str) -> List[RawProvision]:
    """国知办发管字〔2017〕30号: 申报对象/条件, 程序, 试点内容, 政策支撑, 联系人."""
    lines = _strip_lines(text)
    out: List[RawProvision] = []
    section, subsection = "", ""
    index = 0

    def next_body(start: int) -> Tuple[int, str]:
        """The next non-empty line after `start`."""
        while start < len(lines) and not lines[start][1].strip():
            start += 1
        return lines[start][0], lines[start][1].strip()

    while index < len(lines):
        number, line = lines[index]
        index += 1
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("联系人："):
            contact = "\n".join(item for _, item in lines[index - 1:]).strip()
            out.append(RawProvision("cnipa-contacts", ["联系人"], "联系人", "联系人及联系方式",
                                    contact, number))
            break
        match = SECTION_RE.match(stripped)
        if match and len(stripped) < 20:
            section, subsection = stripped, ""
            if section.startswith("二、"):
                body_number, body = next_body(index)
                out.append(RawProvision("cnipa-procedure-overview", [section], "二、", "申报方式与首批试点时间",
                                        body, body_number))
            continue
        if not section:
            continue
        match = CN_ITEM_RE.match(stripped)
        if match:
            num = cn_to_int(match.group(1))
            rest = match.group(2)
            if section.startswith("一、"):
                subsection = stripped
                if rest == "申报对象":
                    body_number, body = next_body(index)
                    out.append(RawProvision("cnipa-applicants", [section], f"（{match.group(1)}）", rest, body, body_number))
            elif section.startswith("二、"):
                title, body = _lead(rest)
                ident = f"cnipa-procedure-{num}"
                if num == 2:
                    quota_number, _ = next_body(index)
                    quota = lines[quota_number - 1][1].rstrip()
                    out.append(RawProvision(ident, [section], f"（{match.group(1)}）", title, body, number,
                                            extra={"continuation": quota}))
                else:
                    out.append(RawProvision(ident, [section], f"（{match.group(1)}）", title, body, number))
            elif section.startswith("三、"):
                body_number, body = next_body(index)
                out.append(RawProvision(f"cnipa-pilot-{num}", [section], f"（{match.group(1)}）", rest, body, body_number))
            elif section.startswith("四、"):
                body_number, body = next_body(index)
                out.append(RawProvision(f"cnipa-support-{num}", [section], f"（{match.group(1)}）", rest, body, body_number))
            continue
        if section.startswith("一、") and re.match(r"^\d\.", stripped):
            num = int(stripped[0])
            out.append(RawProvision(f"cnipa-condition-{num}", [section, subsection], f"{num}.",
                                    f"申报条件{num}", stripped[2:], number))
            continue
        if section.startswith("三、") and stripped.startswith("试点期间"):
            out.append(RawProvision("cnipa-pilot-reporting", [section], "三、", "试点期间工作总结与报送",
                                    stripped, number))
    for item in out:
        continuation = item.extra.pop("continuation", None)
        if continuation:
            item.text = f"{item.text}\n{continuation}"
    return out


RESPONSIBILITY_RE = re.compile(r"[（(]责任单位[:：](.+?)[）)]\s*$")


def parse_shanghai_gov(text: str) -> List[RawProvision]:
    """沪府办发〔2024〕7号: (一)–(三十), each ending with its 责任单位."""
    out: List[RawProvision] = []
    section = ""
    started = False
    for number, line in _strip_lines(text):
        stripped = line.strip()
        if stripped == "上海市专利转化运用专项行动实施方案":
            started = True
            continue
        if not started:
            continue
        match = SECTION_RE.match(stripped)
        if match and not stripped.startswith("("):
            section = stripped
            continue
        match = CN_ITEM_RE.match(stripped)
        if match and section:
            num = cn_to_int(match.group(1))
            rest = match.group(2)
            duty = RESPONSIBILITY_RE.search(rest)
            body = rest[: duty.start()] if duty else rest
            out.append(RawProvision(f"shgov-{num}", [section], f"({match.group(1)})", "", body, number,
                                    responsibility_text=duty.group(0).strip("()（）") if duty else None))
    return out


PARSERS: Dict[str, Callable[[str], List[RawProvision]]] = {
    "shanghai-ipa-2023-9": parse_shanghai_ipa,
    "datong-2023-zjtx": parse_datong,
    "cnipa-2017-30": parse_cnipa,
    "shanghai-gov-2024-7": parse_shanghai_gov,
}

EXPECTED_COUNTS = {
    "shanghai-ipa-2023-9": 24,
    "datong-2023-zjtx": 16,
    "cnipa-2017-30": 19,
    "shanghai-gov-2024-7": 30,
}


def split_responsibility(text: Optional[str]) -> List[str]:
    """The agency names listed in a 责任单位 note, in order."""
    if not text:
        return []
    names = re.split(r"[:：]", text, maxsplit=1)[-1]
    return [name.strip() for name in re.split(r"[、,，]", names) if name.strip()]


# ---- figures and deadlines -------------------------------------------------------------------

YEAR_END_RE = re.compile(r"(?:到)?(20\d\d)年底(前)?")
FIGURE_RE = re.compile(
    r"^(?P<metric>.+?)(?P<verb>达到|超过|不低于|达)(?P<value>\d+(?:\.\d+)?)(?P<unit>件|%|亿元|家|个)(?P<qual>以上|左右)?(?:（[^）]*）)?$"
)
RANGE_RE = re.compile(r"(?P<metric>[^，,。；\s]*?)(?P<value>\d+-\d+)(?P<unit>个[^，,。；（）]*)")
CLAUSE_SPLIT_RE = re.compile(r"[，,。；;]")


def _clauses(text: str) -> List[str]:
    """Split text into clauses at Chinese and ASCII commas, full stops and semicolons."""
    return [clause.strip() for clause in CLAUSE_SPLIT_RE.split(text) if clause.strip()]


def _year_end(year: str) -> dt.date:
    """The last day of a year given as text."""
    return dt.date(int(year), 12, 31)


def find_targets(text: str) -> List[Dict[str, object]]:
    """Quantitative and coverage targets with their deadlines, each with its verbatim clause."""
    targets: List[Dict[str, object]] = []
    for sentence in re.split(r"[。；]", text):
        clauses = _clauses(sentence)
        deadline_text, deadline = "", None
        previous = ""
        for clause in clauses:
            match = YEAR_END_RE.search(clause)
            if match:
                deadline_text = match.group(0).lstrip("到")
                deadline = _year_end(match.group(1))
                remainder = clause[match.end():].strip()
            else:
                remainder = clause
            if not deadline_text:
                figure = FIGURE_RE.match(remainder)
                if figure and figure.group("verb") == "不低于":
                    targets.append(_target(figure, remainder, clause, None, ""))
                previous = clause
                continue
            if not remainder:
                previous = clause
                continue
            figure = FIGURE_RE.match(remainder)
            if figure:
                targets.append(_target(figure, remainder, clause, deadline, deadline_text))
            elif "全覆盖" in remainder:
                subject = remainder.replace("实现", "").replace("全覆盖", "").strip("对") or previous
                targets.append({
                    "metric": f"{subject}（全覆盖）" if subject != previous else f"{previous}（全覆盖）",
                    "value": "全覆盖", "unit": "", "qualifier": "",
                    "deadline": deadline, "deadline_text": deadline_text,
                    "quote": clause if subject != previous else f"{previous}{_joiner(sentence, previous, clause)}{clause}",
                })
            previous = clause
    for match in RANGE_RE.finditer(text):
        targets.append({
            "metric": match.group("metric"), "value": match.group("value"), "unit": match.group("unit"),
            "qualifier": "", "deadline": None, "deadline_text": "", "quote": match.group(0),
        })
    return targets


def _joiner(sentence: str, first: str, second: str) -> str:
    """The punctuation between two adjacent clauses, as written."""
    start = sentence.find(first) + len(first)
    end = sentence.find(second, start)
    return sentence[start:end]


def _target(figure: re.Match, remainder: str, clause: str, deadline: Optional[dt.date],
            deadline_text: str) -> Dict[str, object]:
    """A target record from a matched figure clause."""
    return {
        "metric": figure.group("metric"), "value": figure.group("value"), "unit": figure.group("unit"),
        "qualifier": figure.group("qual") or {"超过": "超过", "不低于": "不低于"}.get(figure.group("verb"), ""),
        "deadline": deadline, "deadline_text": deadline_text, "quote": remainder if remainder in clause else clause,
    }


DATE_BEFORE_RE = re.compile(r"于?(\d{1,2})月(\d{1,2})日前")
YEAR_RANGE_RE = re.compile(r"(20\d\d)年至(20\d\d)年")


def find_deadlines(text: str, doc_year: int) -> List[Dict[str, object]]:
    """Dated deadlines and periods stated in a provision, with their verbatim phrases."""
    found: List[Dict[str, object]] = []
    for match in DATE_BEFORE_RE.finditer(text):
        found.append({"description": "截止日期", "date": dt.date(doc_year, int(match.group(1)), int(match.group(2))),
                      "date_text": f"{match.group(1)}月{match.group(2)}日前", "quote": match.group(0)})
    for match in YEAR_RANGE_RE.finditer(text):
        found.append({"description": "期限", "date": _year_end(match.group(2)),
                      "date_text": match.group(0), "quote": match.group(0)})
    for match in re.finditer(r"到(20\d\d)年[，,]", text):
        found.append({"description": "期限", "date": _year_end(match.group(1)),
                      "date_text": f"到{match.group(1)}年", "quote": match.group(0)[:-1]})
    if "每年年底" in text:
        found.append({"description": "每年定期", "date": None, "date_text": "每年年底", "quote": "每年年底"})
    for match in YEAR_END_RE.finditer(text):
        found.append({"description": "目标期限", "date": _year_end(match.group(1)),
                      "date_text": match.group(0).lstrip("到"), "quote": match.group(0)})
    unique: Dict[str, Dict[str, object]] = {}
    for item in found:
        unique.setdefault(str(item["date_text"]), item)
    return list(unique.values())
