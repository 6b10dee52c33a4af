"""nlu_components: the jieba tokenizer keeps KB terms whole, drops whitespace and reads what the KB writes."""

from __future__ import annotations


from nlu_components.jieba import CleanJiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from settings import PROJECT_ROOT as ROOT



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
