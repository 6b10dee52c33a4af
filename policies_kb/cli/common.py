"""What every KB command shares: exit codes, user errors, loading the KB, checking options, JSON output."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any, Optional

from ..kb import KnowledgeBase, load_kb, normalise_region

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_KB_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user mistake on the command line (exit code 2)."""


class KBFormatError(Exception):
    """A KB file with a missing or mistyped field the loader does not name (exit code 1)."""


def load_checked(args: argparse.Namespace) -> KnowledgeBase:
    """Load and check the KB from the folders the options name."""
    try:
        return load_kb(data_dir=args.data_dir, sources_dir=args.sources_dir, check=True)
    except (KeyError, TypeError, AttributeError) as exc:
        raise KBFormatError(f"知识库文件缺少字段或格式不对（{type(exc).__name__}: {exc}）") from exc


def region_option(value: Optional[str]) -> Optional[str]:
    """A --region value as 上海, 大同 or 全国."""
    if not value:
        return None
    region = normalise_region(value)
    if not region:
        raise UsageError(f"无法识别的地区“{value}”，可用：上海、大同、全国（也可写 浦东、山西、国家 等）。")
    return region


def topic_option(kb: KnowledgeBase, value: Optional[str]) -> Optional[str]:
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


def agency_option(kb: KnowledgeBase, value: Optional[str]) -> Optional[str]:
    """A --agency value, checked to name some agency."""
    if not value:
        return None
    if value in kb.agencies or kb.resolve_agency(value):
        return value
    raise UsageError(f"无法识别的机构“{value}”。可用 `python -m policies_kb agencies` 查看机构列表。")


def platform_option(kb: KnowledgeBase, value: Optional[str]) -> Optional[str]:
    """A --platform value, checked to name some platform."""
    if not value:
        return None
    if value in kb.platforms or kb.resolve_platform(value):
        return value
    raise UsageError(f"无法识别的平台“{value}”。可用 `python -m policies_kb platforms` 查看平台列表。")


def print_json(data: Any) -> None:
    """UTF-8 JSON, readable (not ASCII-escaped)."""
    print(json.dumps(data, ensure_ascii=False, indent=2))
