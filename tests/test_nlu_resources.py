"""The NLU's jieba dictionary and lookup tables are generated from the KB and never drift from it."""

from __future__ import annotations

from pathlib import Path

import yaml

from nlu_components.jieba import CleanJiebaTokenizer
from policies_kb import load_kb
from policies_kb.exports import LOOKUP_EXCLUDED_AGENCIES, jieba_dictionary, nlu_lookups
from rasa.shared.nlu.training_data.message import Message

ROOT = Path(__file__).resolve().parent.parent


def test_dictionary_and_lookups_match_the_kb():
    """`make nlu-resources` output is committed and current."""
    kb = load_kb()
    assert (ROOT / "nlu_dictionary" / "kb_words.txt").read_text(encoding="utf-8") == jieba_dictionary(kb)
    assert (ROOT / "data" / "nlu" / "lookups" / "kb_lookups.yml").read_text(encoding="utf-8") == nlu_lookups(kb)


def test_lookups_cover_every_agency_and_platform_name():
    """Every agency and platform name is in a lookup table (but the pilot-city subjects, kept out on purpose)."""
    kb = load_kb()
    data = yaml.safe_load((ROOT / "data" / "nlu" / "lookups" / "kb_lookups.yml").read_text(encoding="utf-8"))
    tables = {item["lookup"]: item["examples"] for item in data["nlu"] if "lookup" in item}
    for agency in kb.agencies.values():
        listed = f"- {agency.name}\n" in tables["agency"]
        assert listed == (agency.id not in LOOKUP_EXCLUDED_AGENCIES), agency.id
    for platform in kb.platforms.values():
        assert f"- {platform.name}\n" in tables["platform"]
    synonyms = {item["synonym"]: item["examples"] for item in data["nlu"] if "synonym" in item}
    assert "- 浦东\n" in synonyms["上海"] and "- 山西\n" in synonyms["大同"]


def test_tokenizer_drops_whitespace_and_keeps_kb_terms():
    """Whitespace is not a token, and KB terms such as 质押融资 stay whole."""
    tokenizer = CleanJiebaTokenizer.create(
        {**CleanJiebaTokenizer.get_default_config(), "dictionary_path": str(ROOT / "nlu_dictionary")},
        None, None, None,
    )
    tokens = tokenizer.tokenize(Message(data={"text": "专利  质押融资 贴息"}), "text")
    texts = [token.text for token in tokens]
    assert all(text.strip() for text in texts)
    assert "质押融资" in texts and "贴息" in texts
    assert tokenizer.tokenize(Message(data={"text": "   "}), "text")


def test_tokenizer_reads_traditional_script_and_typos_as_the_kb_writes():
    """The NLU sees 质押融资 whether the user types 質押融資 or 质压融资; the length (entity offsets) is kept."""
    tokenizer = CleanJiebaTokenizer.create(
        {**CleanJiebaTokenizer.get_default_config(), "dictionary_path": str(ROOT / "nlu_dictionary")},
        None, None, None,
    )
    simplified = Message(data={"text": "上海专利质押融资有贴息吗"})
    tokenizer.process([simplified])
    expected = [(token.text, token.start) for token in simplified.get("text_tokens")]
    for typed in ("上海專利質押融資有貼息嗎", "上海专利质压融资有贴息吗"):
        message = Message(data={"text": typed})
        tokenizer.process([message])
        assert message.get("text") == "上海专利质押融资有贴息吗"
        assert [(token.text, token.start) for token in message.get("text_tokens")] == expected
