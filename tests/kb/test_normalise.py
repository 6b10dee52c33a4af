"""Input as people type it (policies_kb.normalise): same-length normalisation on the real KB vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from policies_kb.normalise import TextNormaliser, fold_width, load_readings, strip_proposal
from policies_kb.paths import READINGS_FILE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("typed, expected", [
    ("專利質押貸款有貼息嗎", "专利质押贷款有贴息吗"),
    ("海外維權援助", "海外维权援助"),
    ("ＰＣＴ申請有補貼嗎", "PCT申请有补贴吗"),
    ("专利质压贷款", "专利质押贷款"),
    ("为权援助找谁", "维权援助找谁"),
    ("申抱试点城市", "申报试点城市"),
    ("专利导行是干啥的", "专利导航是干啥的"),  # 行 is typed for its other reading, hang
    ("我们是刚评上的专精特新", "我们是刚评上的专精特新"),  # 是刚 reads like 提纲 but shares no character with it
])
def test_questions_are_read_as_the_kb_writes(kb, typed: str, expected: str) -> None:
    assert kb.normalise(typed) == expected


def test_a_proposal_title_keeps_only_its_subject(kb) -> None:
    out = kb.normalise("關於加強知識產權質押融資的建議")
    assert out.strip() == "加强知识产权质押融资"
    assert strip_proposal("关于专利导航的提案") == "  专利导航   "
    assert strip_proposal("关于专利导航有什么政策") == "关于专利导航有什么政策"


def test_every_change_keeps_the_length(kb) -> None:
    for text in ["", "   ", "關於加強知識產權融資的建議。", "ｈｔｔｐ：／／ａ\u3000b", "我们是刚评上的专精特新小巨人", "后面乾淨"]:
        assert len(kb.normalise(text)) == len(text)
    assert fold_width("ＡＢ１\u3000（一）") == "AB1 （一）"


def test_real_words_are_not_taken_for_typos(kb) -> None:
    """Almost no training example changes: the typo rule only joins characters the dictionary leaves alone."""
    changed = total = 0
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))", r"\1", re.sub(r"^\s*-\s*", "", line))
                if text and "intent" in item:
                    total += 1
                    changed += kb.normalise(text) != text
    assert total > 2000
    assert changed <= total * 0.002


def test_a_run_that_reads_like_two_terms_is_left_alone() -> None:
    readings = load_readings(READINGS_FILE)
    normaliser = TextNormaliser(["质押", "职业"], readings, segment=list)
    assert normaliser.fix_typos("质压") == "质押"
    ambiguous = TextNormaliser(["质押", "指压"], readings, segment=list)
    assert ambiguous.fix_typos("质鸭") == "质鸭"


def test_small_numbers_of_years_are_written_as_the_documents_do(kb) -> None:
    assert kb.normalise("授权五年没实施") == "授权5年没实施"
    assert kb.normalise("十五年前") == "十五年前"
    assert kb.normalise("2017年") == "2017年"


def test_a_rare_word_across_a_typos_edge_does_not_hide_it() -> None:
    """那大|铜: the dictionary's rare 那大 straddles the typo 大铜; a common word across the edge still protects it."""
    readings = load_readings(READINGS_FILE)
    words = {"那大铜呢": ["那大", "铜", "呢"]}
    rare = TextNormaliser(["大同"], readings, segment=lambda t: words.get(t, list(t)), frequency=lambda w: 10)
    assert rare.fix_typos("那大铜呢") == "那大同呢"
    common = TextNormaliser(["大同"], readings, segment=lambda t: words.get(t, list(t)), frequency=lambda w: 50000)
    assert common.fix_typos("那大铜呢") == "那大铜呢"


def test_region_typos_after_a_demonstrative_are_read(kb) -> None:
    assert kb.region_in(kb.normalise("那大铜这边有什么说法")) == "大同"
