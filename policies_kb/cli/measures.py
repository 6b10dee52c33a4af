"""The commands that find and show measures: search, show, list."""

from __future__ import annotations

import argparse
import difflib
import logging

from ..labels import agencies_text, platforms_text, validity_label
from .common import EXIT_OK, UsageError, agency_option, load_checked, platform_option, print_json, region_option, topic_option
from .records import cn_date, deadlines_lines, measure_record, targets_lines
from .layout import display_width, field, pad, table, terminal_width

logger = logging.getLogger(__name__)


def cmd_search(args: argparse.Namespace) -> int:
    """Ranked measures for a query."""
    query = " ".join(args.query).strip()
    if not query:
        raise UsageError("检索词不能为空，例如：python -m policies_kb search 质押贷款贴息")
    if args.limit < 1:
        raise UsageError("--limit 必须是正整数。")
    kb = load_checked(args)
    region = region_option(args.region)
    topic = topic_option(kb, args.topic)
    hits = kb.search(kb.normalise(query), region=region, topic=topic, agency=agency_option(kb, args.agency),
                     platform=platform_option(kb, args.platform), limit=args.limit)
    if args.json:
        print_json([dict(measure_record(kb, hit.measure), rank=rank, score=hit.score, matched=list(hit.matched))
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
    kb = load_checked(args)
    measure = kb.get(args.id.strip())
    if measure is None:
        close = difflib.get_close_matches(args.id.strip(), [m.id for m in kb.measures], n=3, cutoff=0.6)
        hint = f"您是否要找：{'、'.join(close)}？" if close else "可用 `python -m policies_kb list` 查看全部编号。"
        raise UsageError(f"未找到编号为“{args.id}”的措施。{hint}")
    if args.json:
        print_json(measure_record(kb, measure))
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
    kb = load_checked(args)
    region = region_option(args.region)
    topic = topic_option(kb, args.topic)
    measures = kb.filter(region=region, topic=topic)
    if args.json:
        print_json([measure_record(kb, m) for m in measures])
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
