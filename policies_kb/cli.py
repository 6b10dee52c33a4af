"""Command line for the knowledge base: ``python -m policies_kb <command>``.

Commands: search, show, list, agencies, platforms, validate, build. Human output is Chinese and
aligned for a terminal (CJK characters count two columns); ``--json`` prints full records as UTF-8
JSON. Exit codes: 0 success, 1 the KB files are broken (every problem is printed with file:line),
2 bad arguments or an unknown id.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import re
import shutil
import sys
import unicodedata
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .kb import KnowledgeBase, clear_cache, load_kb, normalise_region
from .labels import agencies_text, platforms_text, validity_label
from .loader import KBValidationError
from .model import Measure
from .paths import DATA_DIR, SOURCES_DIR
from .yamlio import KBFileError

EXIT_OK, EXIT_KB_ERROR, EXIT_USAGE = 0, 1, 2
KIND_LABELS = {"platform": "平台", "organisation": "机构", "programme": "工程/活动"}
LABEL_WIDTH = 10


class UsageError(Exception):
    """A user mistake on the command line (exit code 2)."""


class KBFormatError(Exception):
    """A KB file with a missing or mistyped field the loader does not name (exit code 1)."""


# ---- terminal layout -------------------------------------------------------------------------

def char_width(char: str) -> int:
    """Columns a character takes in a terminal: 2 for wide (CJK) characters, 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters count two)."""
    return sum(char_width(char) for char in text)


def pad(text: str, width: int) -> str:
    """Left-align text in `width` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def truncate(text: str, width: int) -> str:
    """Cut text to at most `width` columns, marking the cut with …."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        if used + char_width(char) > width - 1:
            break
        out.append(char)
        used += char_width(char)
    return "".join(out) + "…"


NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)]%")


def wrap(text: str, width: int) -> List[str]:
    """Break text into lines of about `width` columns (CJK text breaks anywhere, but a closing
    punctuation mark stays at the end of the line before rather than starting a new one)."""
    lines: List[str] = []
    for paragraph in text.split("\n"):
        line, used = [], 0
        for char in paragraph:
            size = char_width(char)
            if used + size > width and line and char not in NO_LINE_START:
                lines.append("".join(line).rstrip())
                line, used = [], 0
                if char == " ":
                    continue
            line.append(char)
            used += size
        lines.append("".join(line).rstrip())
    return lines


def terminal_width() -> int:
    """The usable output width, between 60 and 120 columns."""
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def field(label: str, value: str, indent: int = 0, width: Optional[int] = None) -> List[str]:
    """A `label  value` block with the label padded and continuation lines hanging under the value."""
    width = width or terminal_width()
    prefix = " " * indent + pad(label, LABEL_WIDTH)
    room = max(20, width - display_width(prefix))
    lines = wrap(value or "—", room)
    return [prefix + lines[0]] + [" " * display_width(prefix) + line for line in lines[1:]]


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], width: Optional[int] = None,
          indent: int = 0) -> List[str]:
    """Rows aligned in columns by display width; the last column wraps to fit the terminal."""
    rows = [list(row) for row in rows]
    width = width or terminal_width()
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    fixed = indent + sum(widths[:-1]) + 2 * (len(headers) - 1)
    widths[-1] = max(display_width(headers[-1]), 16, min(widths[-1], width - fixed))
    margin = " " * indent

    def render(cells: Sequence[str]) -> List[str]:
        head = "  ".join(pad(cell, widths[i]) for i, cell in enumerate(cells[:-1]))
        head = margin + (head + "  " if len(cells) > 1 else "")
        last = wrap(cells[-1], widths[-1])
        return [(head + last[0]).rstrip()] + [(" " * display_width(head) + line).rstrip() for line in last[1:]]

    out = render(headers) + [margin + "  ".join("─" * w for w in widths)]
    for row in rows:
        out += render(row)
    return out


# ---- records ---------------------------------------------------------------------------------

def measure_record(kb: KnowledgeBase, measure: Measure) -> Dict[str, Any]:
    """The full JSON record of a measure: its fields plus citation, region and document."""
    doc = kb.document(measure)
    record = measure.to_dict()
    record.update({
        "citation": kb.citation(measure),
        "short_citation": kb.short_citation(measure),
        "region": doc.region,
        "document": doc.title,
        "document_reference": doc.reference,
        "validity_status": kb.validity_status(measure),
        "validity_note": kb.validity_note(measure),
    })
    return record


def cn_date(value: Any) -> str:
    """A date as 2025年12月31日."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def targets_lines(measure: Measure) -> List[str]:
    """Figures and targets with their deadlines."""
    out = []
    for target in measure.targets:
        qualifier = target.qualifier
        if qualifier in ("以上", "左右"):
            figure = f"{target.value}{target.unit}{qualifier}"
        else:
            figure = f"{qualifier}{target.value}{target.unit}"
        deadline = f"（期限：{target.deadline_text}，即{cn_date(target.deadline)}）" if target.deadline else ""
        out.append(f"{target.metric}：{figure}{deadline}")
    return out


def deadlines_lines(measure: Measure) -> List[str]:
    """Deadlines and periods with their dates."""
    out = []
    for item in measure.deadlines:
        date = f"（{cn_date(item.date)}）" if item.date else ""
        out.append(f"{item.date_text}{date}　{item.description}；原文：“{item.quote}”")
    return out


# ---- loading ---------------------------------------------------------------------------------

def _load(args: argparse.Namespace) -> KnowledgeBase:
    """Load and check the KB from the folders the options name."""
    try:
        return load_kb(data_dir=args.data_dir, sources_dir=args.sources_dir, check=True)
    except (KeyError, TypeError, AttributeError) as exc:
        raise KBFormatError(f"知识库文件缺少字段或格式不对（{type(exc).__name__}: {exc}）") from exc


def _region(value: Optional[str]) -> Optional[str]:
    """A --region value as 上海, 大同 or 全国."""
    if not value:
        return None
    region = normalise_region(value)
    if not region:
        raise UsageError(f"无法识别的地区“{value}”，可用：上海、大同、全国（也可写 浦东、山西、国家 等）。")
    return region


def _topic(kb: KnowledgeBase, value: Optional[str]) -> Optional[str]:
    """A --topic value as a topic id (an id, or a label or part of one)."""
    if not value:
        return None
    if value in kb.topics:
        return value
    matches = [t.id for t in kb.topics.values() if value == t.label or value in t.label]
    if len(matches) == 1:
        return matches[0]
    choices = "、".join(f"{t.id}（{t.label}）" for t in kb.topics.values())
    raise UsageError(f"无法识别的主题“{value}”。可用主题：{choices}")


def _agency(kb: KnowledgeBase, value: Optional[str]) -> Optional[str]:
    """A --agency value, checked to name some agency."""
    if not value:
        return None
    if value in kb.agencies or kb.resolve_agency(value):
        return value
    raise UsageError(f"无法识别的机构“{value}”。可用 `python -m policies_kb agencies` 查看机构列表。")


def _platform(kb: KnowledgeBase, value: Optional[str]) -> Optional[str]:
    """A --platform value, checked to name some platform."""
    if not value:
        return None
    if value in kb.platforms or kb.resolve_platform(value):
        return value
    raise UsageError(f"无法识别的平台“{value}”。可用 `python -m policies_kb platforms` 查看平台列表。")


def _print_json(data: Any) -> None:
    """UTF-8 JSON, readable (not ASCII-escaped)."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


# ---- commands --------------------------------------------------------------------------------

def cmd_search(args: argparse.Namespace) -> int:
    """Ranked measures for a query."""
    query = " ".join(args.query).strip()
    if not query:
        raise UsageError("检索词不能为空，例如：python -m policies_kb search 质押贷款贴息")
    if args.limit < 1:
        raise UsageError("--limit 必须是正整数。")
    kb = _load(args)
    region = _region(args.region)
    topic = _topic(kb, args.topic)
    hits = kb.search(kb.normalise(query), region=region, topic=topic, agency=_agency(kb, args.agency),
                     platform=_platform(kb, args.platform), limit=args.limit)
    if args.json:
        _print_json([dict(measure_record(kb, hit.measure), rank=rank, score=hit.score, matched=list(hit.matched))
                     for rank, hit in enumerate(hits, start=1)])
        return EXIT_OK
    filters = [f"{name}：{value}" for name, value in
               (("地区", region), ("主题", topic), ("机构", args.agency), ("平台", args.platform)) if value]
    scope = f"（{'，'.join(filters)}）" if filters else ""
    if not hits:
        print(f"检索“{query}”{scope}：未找到相关措施。可换用更常见的说法，或去掉筛选条件再试。")
        return EXIT_OK
    print(f"检索“{query}”{scope}，共 {len(hits)} 条结果：")
    width = terminal_width()
    rank_width = len(str(len(hits))) + 2
    for rank, hit in enumerate(hits, start=1):
        measure = hit.measure
        head = pad(f"{rank}.", rank_width) + measure.title
        score = f"得分 {hit.score:.2f}"
        gap = width - display_width(head) - display_width(score)
        print()
        if gap >= 2:
            print(head + " " * gap + score)
        else:
            print(head)
            print(" " * rank_width + score)
        indent = rank_width
        rows = [("出处", kb.citation(measure)),
                ("编号", f"{measure.id}（{kb.region_of(measure)}）"),
                ("责任单位", agencies_text(kb, measure, full_names=False, mark_each=True, empty="—")),
                ("平台", platforms_text(measure, empty="—"))]
        if kb.validity_status(measure) in ("expired", "targets_past"):
            rows.append(("有效性", kb.validity_note(measure)))
        for label, value in rows:
            for line in field(label, value, indent, width):
                print(line)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """Everything about one measure."""
    kb = _load(args)
    measure = kb.get(args.id.strip())
    if measure is None:
        close = difflib.get_close_matches(args.id.strip(), [m.id for m in kb.measures], n=3, cutoff=0.6)
        hint = f"您是否要找：{'、'.join(close)}？" if close else "可用 `python -m policies_kb list` 查看全部编号。"
        raise UsageError(f"未找到编号为“{args.id}”的措施。{hint}")
    if args.json:
        _print_json(measure_record(kb, measure))
        return EXIT_OK
    doc = kb.document(measure)
    width = terminal_width()
    topics = "；".join(kb.topics[t].label if t in kb.topics else t for t in measure.topics)
    issued = f"{'、'.join(doc.issuers)} {cn_date(doc.date)}印发"
    lines = [f"{measure.id}  {measure.title}", "═" * min(width, 60)]
    lines += field("出处", kb.citation(measure), width=width)
    lines += field("文件", f"{doc.reference}；{issued}" if doc.doc_number else doc.reference, width=width)
    lines += field("章节", " › ".join([*measure.section_path, measure.article]), width=width)
    lines += field("地区", doc.region, width=width)
    lines += field("文件状态", validity_label(doc.validity_status), width=width)
    lines += ["", "原文（逐字引自来源文件）："]
    lines += ["  " + line for line in measure.text.split("\n")]
    if measure.responsibility_text:
        lines.append(f"  （{measure.responsibility_text}）")
    lines.append("")
    lines += field("责任单位", agencies_text(kb, measure, mark_each=True, empty="—"), width=width)
    if any(ref.inferred for ref in measure.agencies):
        lines += field("", "（推定）：文件未写明责任单位，依条文内容推定。", width=width)
    lines += field("平台", platforms_text(measure, empty="—"), width=width)
    for index, text in enumerate(targets_lines(measure) or ["—"]):
        lines += field("目标指标" if index == 0 else "", text, width=width)
    for index, text in enumerate(deadlines_lines(measure) or ["—"]):
        lines += field("期限" if index == 0 else "", text, width=width)
    lines += field("有效性", kb.validity_note(measure) or "文件未载明有效期限，本条无目标期限。", width=width)
    lines += field("受益对象", "、".join(measure.beneficiaries), width=width)
    lines += field("主题", topics, width=width)
    lines += field("关键词", "、".join(measure.keywords), width=width)
    lines += field("来源位置", f"{doc.source} 第 {measure.source_line} 行", width=width)
    print("\n".join(lines))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """Every measure (optionally of one region or topic)."""
    kb = _load(args)
    region = _region(args.region)
    topic = _topic(kb, args.topic)
    measures = kb.filter(region=region, topic=topic)
    if args.json:
        _print_json([measure_record(kb, m) for m in measures])
        return EXIT_OK
    if not measures:
        print("没有符合条件的措施。")
        return EXIT_OK
    for doc in kb.documents.values():
        selected = [m for m in measures if m.document_id == doc.id]
        if not selected:
            continue
        print(f"{doc.reference}　{doc.region}，{len(selected)} 条")
        rows = [(m.id, m.article, m.title) for m in selected]
        print("\n".join(table(("编号", "条款", "标题"), rows, indent=2)))
        print()
    print(f"共 {len(measures)} 条措施。")
    return EXIT_OK


def cmd_agencies(args: argparse.Namespace) -> int:
    """Every agency with its names and the number of measures naming it."""
    kb = _load(args)
    records = []
    for agency in kb.agencies.values():
        measures = kb.measures_naming_agency(agency.id)
        records.append({
            "id": agency.id, "name": agency.name, "region": agency.region,
            "aliases": list(agency.aliases), "user_aliases": list(agency.user_aliases),
            "measure_count": len(measures), "measures": [m.id for m in measures],
            "stated_count": sum(1 for m in measures for r in m.agencies if r.agency_id == agency.id and not r.inferred),
        })
    if args.json:
        _print_json(records)
        return EXIT_OK
    rows = [(r["id"], r["region"], str(r["measure_count"]), r["name"],
             "、".join(dict.fromkeys(a for a in r["aliases"] + r["user_aliases"] if a != r["name"])) or "—")
            for r in records]
    print("\n".join(table(("编号", "地区", "措施数", "名称", "别称（文件用语与常见说法）"), rows)))
    print(f"\n共 {len(records)} 个机构。措施数含推定的责任单位。")
    return EXIT_OK


def cmd_platforms(args: argparse.Namespace) -> int:
    """Every platform with its names and the number of measures naming it."""
    kb = _load(args)
    records = []
    for platform in kb.platforms.values():
        measures = kb.measures_naming_platform(platform.id)
        records.append({
            "id": platform.id, "name": platform.name, "region": platform.region, "kind": platform.kind,
            "aliases": list(platform.aliases), "user_aliases": list(platform.user_aliases),
            "purpose": platform.purpose, "measure_count": len(measures), "measures": [m.id for m in measures],
        })
    if args.json:
        _print_json(records)
        return EXIT_OK
    rows = [(r["region"], KIND_LABELS.get(r["kind"], r["kind"]), str(r["measure_count"]), r["name"],
             "、".join(r["measures"]) or "—") for r in records]
    print("\n".join(table(("地区", "类型", "措施数", "名称", "提及的措施"), rows)))
    print(f"\n共 {len(records)} 个平台、机构或工程。")
    return EXIT_OK


def _validated_summary(kb: KnowledgeBase) -> str:
    """The one-line summary of a valid KB."""
    counts = "，".join(f"{doc.doc_number or doc.short_title} {len(kb.filter(document=doc.id))} 条"
                      for doc in kb.documents.values())
    return (f"知识库校验通过：{len(kb.measures)} 条措施，{len(kb.documents)} 份文件，"
            f"{len(kb.agencies)} 个机构，{len(kb.platforms)} 个平台，{len(kb.topics)} 个主题"
            f"（{counts}）。原文逐字核对、来源文件校验和、机构与平台登记均无问题。")


def cmd_validate(args: argparse.Namespace) -> int:
    """Load with every check; print the summary or every problem."""
    clear_cache()
    kb = _load(args)
    print(_validated_summary(kb))
    return EXIT_OK


def cmd_nlu_resources(args: argparse.Namespace) -> int:
    """Write the jieba dictionary and the NLU lookup file from the KB (the Rasa-side nlu_resources package)."""
    from nlu_resources import update_message  # the build step lives outside the pure library

    print(update_message(_load(args)))
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    """Rebuild the measure files from the sources, then validate."""
    from . import builder

    data_dir = Path(args.data_dir or DATA_DIR)
    sources_dir = Path(args.sources_dir or SOURCES_DIR)
    try:
        changed = builder.build(data_dir=data_dir, sources_dir=sources_dir)
    except (KeyError, TypeError, AttributeError) as exc:
        raise KBFormatError(f"构建失败：知识库文件缺少字段或格式不对（{type(exc).__name__}: {exc}）") from exc
    except OSError as exc:
        raise KBFormatError(f"构建失败：无法读写文件（{exc}）") from exc
    for path, was_changed in changed.items():
        print(f"{'已更新' if was_changed else '无变化'}  {path}")
    clear_cache()
    kb = _load(args)
    print(_validated_summary(kb))
    return EXIT_OK


# ---- argument parsing ------------------------------------------------------------------------

_MESSAGES: Tuple[Tuple[str, str], ...] = (
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"argument (\S+): invalid choice: '(.*?)' \(choose from (.*)\)", r"参数 \1 的取值“\2”无效，可选：\3"),
    (r"argument (\S+): invalid int value: '(.*)'", r"参数 \1 的取值“\2”不是整数"),
    (r"argument (\S+): expected one argument", r"参数 \1 需要一个取值"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
)


METAVAR_NAMES = {"COMMAND": "命令", "QUERY": "检索词", "ID": "措施编号", "DIR": "目录", "N": "条数",
                 "R": "地区", "T": "主题", "A": "机构", "P": "平台", "command": "命令"}


class ChineseHelpFormatter(argparse.HelpFormatter):
    """Help text with a Chinese usage prefix."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        """Prefix the usage line with 用法： (argparse passes "" when it only wants the program name)."""
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An argument parser whose help and errors are Chinese; errors exit with code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        parents = kwargs.pop("parents", [])
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示帮助并退出")
        for parent in parents:  # as argparse does, but after the group titles are Chinese
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print a Chinese usage error and exit 2."""
        for pattern, replacement in _MESSAGES:
            match = re.fullmatch(pattern, message)
            if match:
                names = match.group(1)
                if not pattern.startswith("unrecognized"):  # argument names, not what the user typed
                    names = re.sub(r"[A-Za-z]+", lambda m: METAVAR_NAMES.get(m.group(0), m.group(0)), names)
                message = match.expand(replacement.replace("\\1", names.replace("\\", "\\\\")))
                break
        else:
            message = f"参数错误（{message}）"
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"错误：{message}。使用 {self.prog} -h 查看帮助。\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = ChineseArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help=f"知识库数据目录（默认 {DATA_DIR}）")
    common.add_argument("--sources-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help=f"来源文件目录（默认 {SOURCES_DIR}）")
    as_json = ChineseArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="输出完整记录（UTF-8 JSON）")

    parser = ChineseArgumentParser(
        prog="python -m policies_kb", parents=[common],
        description="中小企业知识产权政策知识库：检索、查看、列出、校验与构建。",
        epilog="退出码：0 成功；1 知识库文件有问题；2 参数错误或编号不存在。",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="命令", required=True)

    search = sub.add_parser("search", parents=[common, as_json], help="按问题或关键词检索措施")
    search.add_argument("query", nargs="+", metavar="QUERY", help="检索词：问题或关键词，如 质押贷款贴息")
    search.add_argument("--region", metavar="R", help="地区：上海、大同或全国（也可写 浦东、山西 等）")
    search.add_argument("--topic", metavar="T", help="主题编号（如 financing）或主题名称")
    search.add_argument("--agency", metavar="A", help="责任单位：机构名称、简称或编号（如 市知识产权局）")
    search.add_argument("--platform", metavar="P", help="平台名称、简称或编号（如 专利导航平台）")
    search.add_argument("--limit", metavar="N", type=int, default=5, help="最多显示几条（默认 5）")
    search.set_defaults(handler=cmd_search)

    show = sub.add_parser("show", parents=[common, as_json], help="查看一条措施的全部内容")
    show.add_argument("id", metavar="ID", help="措施编号，如 shgov-25")
    show.set_defaults(handler=cmd_show)

    listing = sub.add_parser("list", parents=[common, as_json], help="列出措施")
    listing.add_argument("--region", metavar="R", help="地区：上海、大同或全国")
    listing.add_argument("--topic", metavar="T", help="主题编号（如 financing）或主题名称")
    listing.set_defaults(handler=cmd_list)

    agencies = sub.add_parser("agencies", parents=[common, as_json], help="列出机构及提及它们的措施数")
    agencies.set_defaults(handler=cmd_agencies)
    platforms = sub.add_parser("platforms", parents=[common, as_json], help="列出平台及提及它们的措施数")
    platforms.set_defaults(handler=cmd_platforms)

    validate = sub.add_parser("validate", parents=[common], help="校验知识库（原文逐字、校验和、登记表）")
    validate.set_defaults(handler=cmd_validate)
    build = sub.add_parser("build", parents=[common], help="由来源文件重建措施文件，再校验")
    build.set_defaults(handler=cmd_build)
    resources = sub.add_parser("nlu-resources", parents=[common], help="由知识库生成 jieba 词典和 NLU 查找表")
    resources.set_defaults(handler=cmd_nlu_resources)
    return parser


def _utf8_streams() -> None:
    """Write UTF-8 whatever the locale says."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure:
            try:
                reconfigure(encoding="utf-8")
            except (ValueError, OSError):  # pragma: no cover - a stream that cannot be reconfigured
                pass


def _quiet_jieba() -> None:
    """Keep jieba's start-up chatter ("Building prefix dict …") off the terminal."""
    logging.getLogger("jieba").setLevel(logging.WARNING)
    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:  # pragma: no cover - jieba is a dependency of search
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return the exit code."""
    _utf8_streams()
    _quiet_jieba()
    parser = build_parser()
    args = parser.parse_args(argv)
    # --data-dir/--sources-dir may come before or after the command; absent means the package's own.
    args.data_dir = getattr(args, "data_dir", None)
    args.sources_dir = getattr(args, "sources_dir", None)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    except KBValidationError as exc:
        print(f"知识库校验未通过，共 {len(exc.problems)} 个问题：")
        for problem in exc.problems:
            print(f"  {problem}")
        return EXIT_KB_ERROR
    except KBFileError as exc:
        print(f"知识库文件有误：{exc}")
        return EXIT_KB_ERROR
    except KBFormatError as exc:
        print(f"{exc}。", file=sys.stderr)
        return EXIT_KB_ERROR
    except BrokenPipeError:  # pragma: no cover - e.g. piped into `head`
        return EXIT_OK
