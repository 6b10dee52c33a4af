"""The commands that check and rebuild the KB: validate, build, nlu-resources."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..kb import KnowledgeBase, clear_cache
from ..paths import DATA_DIR, SOURCES_DIR
from .common import EXIT_OK, KBFormatError, load_checked

logger = logging.getLogger(__name__)


def validated_summary(kb: KnowledgeBase) -> str:
    """The one-line summary of a valid KB."""
    counts = "，".join(f"{doc.doc_number or doc.short_title} {len(kb.filter(document=doc.id))} 条"
                      for doc in kb.documents.values())
    return (f"知识库校验通过：{len(kb.measures)} 条措施，{len(kb.documents)} 份文件，"
            f"{len(kb.agencies)} 个机构，{len(kb.platforms)} 个平台，{len(kb.topics)} 个主题"
            f"（{counts}）。原文逐字核对、来源文件校验和、机构与平台登记均无问题。")


def cmd_validate(args: argparse.Namespace) -> int:
    """Load with every check; print the summary or every problem."""
    clear_cache()
    kb = load_checked(args)
    print(validated_summary(kb))
    return EXIT_OK


def cmd_nlu_resources(args: argparse.Namespace) -> int:
    """Write the jieba dictionary and the NLU lookup file from the KB (the Rasa-side nlu_resources package)."""
    from nlu_resources import update_message  # the build step lives outside the pure library

    print(update_message(load_checked(args)))
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    """Rebuild the measure files from the sources, then validate."""
    from .. import builder

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
    kb = load_checked(args)
    print(validated_summary(kb))
    return EXIT_OK
