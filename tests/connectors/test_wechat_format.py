"""Unit tests for connectors.wechat.format (options, byte-limited parts, citations)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st


from wechatpy import parse_message
from wechatpy.replies import TextReply

from connectors.wechat.format import (
    MORE_HINT,
    OPTIONS_HEADER,
    PASSIVE_LIMIT_BYTES,
    WELCOME_MENU,
    is_citation_line,
    is_more_request,
    nbytes,
    parse_option_number,
    render_messages,
    split_reply,
    welcome,
    xml_safe,
)


SUFFIX = "\n\n" + MORE_HINT


def strip_hint(part: str) -> str:
    """Remove the trailing “更多” hint from a part."""
    return part[: -len(SUFFIX)] if part.endswith(SUFFIX) else part


def measure(i: int) -> str:
    """Return one realistic answer paragraph with its citation line."""
    body = (
        f"措施{i}：支持企业开展知识产权质押融资，对符合条件的中小企业给予贴息和风险补偿，"
        "鼓励银行、保险、担保机构创新产品和服务模式，扩大知识产权质押融资规模。" * 3
    )
    return f"{body}\n来源：《上海市知识产权强市建设实施方案》（沪府办发〔2024〕7号）第{i}条"


def test_render_joins_text_numbers_buttons_and_drops_custom() -> None:
    """Text is kept, buttons become numbered options, custom payloads disappear."""
    messages = [
        {"recipient_id": "u", "text": "质押融资有以下支持。"},
        {
            "recipient_id": "u",
            "text": "您还想了解其他地区吗？",
            "buttons": [
                {"title": "大同", "payload": '/ask_other_region{"region":"大同"}'},
                {"title": "全国", "payload": '/ask_other_region{"region":"全国"}'},
            ],
        },
        {"recipient_id": "u", "custom": {"type": "kb_answer", "measures": [{"id": "shgov-1"}]}},
        {
            "recipient_id": "u",
            "text": "这个回答有帮助吗？",
            "buttons": [
                {"title": "有帮助", "payload": "/feedback_helpful"},
                {"title": "没帮助", "payload": "/feedback_unhelpful"},
            ],
        },
    ]
    rendered = render_messages(messages)
    assert "kb_answer" not in rendered.text and "{" not in rendered.text
    assert rendered.text.count(OPTIONS_HEADER) == 1
    assert "1. 大同" in rendered.text and "4. 没帮助" in rendered.text
    assert rendered.text.index("您还想了解") < rendered.text.index("1. 大同")
    assert [o.payload for o in rendered.options] == [
        '/ask_other_region{"region":"大同"}',
        '/ask_other_region{"region":"全国"}',
        "/feedback_helpful",
        "/feedback_unhelpful",
    ]


def test_render_url_buttons_images_and_attachments_stay_visible() -> None:
    """Links, images and attachments are shown as text rather than hidden."""
    rendered = render_messages(
        [
            {
                "text": "原文链接：",
                "buttons": [{"title": "查看原文", "url": "https://example.gov.cn/a"}],
            },
            {"image": "https://example.gov.cn/a.png"},
            {"attachment": "https://example.gov.cn/a.pdf"},
        ]
    )
    assert "查看原文：https://example.gov.cn/a" in rendered.text
    assert "图片：https://example.gov.cn/a.png" in rendered.text
    assert "附件：https://example.gov.cn/a.pdf" in rendered.text
    assert rendered.options == []


def test_render_falls_back_to_kb_answer_when_nothing_else_is_visible() -> None:
    """A lone kb_answer payload is rendered so the user is not left with nothing."""
    rendered = render_messages(
        [
            {
                "custom": {
                    "type": "kb_answer",
                    "measures": [
                        {
                            "title": "（十二）加强知识产权质押融资",
                            "text": "推动质押融资扩面增量。",
                            "citation": "沪府办发〔2024〕7号",
                        }
                    ],
                }
            }
        ]
    )
    assert "推动质押融资扩面增量" in rendered.text
    assert "沪府办发〔2024〕7号" in rendered.text


def test_welcome_menu_is_numbered_and_has_no_policy_text() -> None:
    """The subscribe greeting lists the menu and maps numbers to questions."""
    rendered = welcome()
    for i, (title, _) in enumerate(WELCOME_MENU, start=1):
        assert f"{i}. {title}" in rendered.text
    assert [o.payload for o in rendered.options] == [q for _, q in WELCOME_MENU]
    assert not re.search(r"〔\d{4}〕", rendered.text)
    assert nbytes(rendered.text) <= PASSIVE_LIMIT_BYTES


def test_short_text_is_one_part() -> None:
    """Text under the limit is returned unchanged."""
    assert split_reply("你好") == ["你好"]
    assert split_reply("   ") == []
    text = "字" * (PASSIVE_LIMIT_BYTES // 3)
    assert split_reply(text) == [text]


def test_long_text_splits_at_paragraphs_and_keeps_citations_whole() -> None:
    """Parts fit in 2048 bytes, end with the hint, and never cut a citation."""
    paragraphs = [measure(i) for i in range(1, 9)]
    text = "\n\n".join(paragraphs)
    parts = split_reply(text)
    assert len(parts) > 1
    for part in parts[:-1]:
        assert part.endswith(SUFFIX)
    assert not parts[-1].endswith(SUFFIX)
    for part in parts:
        assert nbytes(part) <= PASSIVE_LIMIT_BYTES
    bodies = [strip_hint(p) for p in parts]
    # paragraph boundaries: every paragraph lies whole inside one part
    for para in paragraphs:
        assert sum(para in body for body in bodies) == 1
    assert "\n\n".join(bodies) == text


def test_overlong_paragraph_splits_at_sentences_outside_brackets() -> None:
    """A single huge paragraph is cut after sentence ends, never inside 《…》."""
    sentence = (
        "根据《关于进一步加强知识产权质押融资工作的若干意见。试行》的规定，企业可以申请贴息。"
    )
    text = sentence * 60
    parts = split_reply(text)
    assert len(parts) > 1
    for part in parts:
        body = strip_hint(part)
        assert nbytes(part) <= PASSIVE_LIMIT_BYTES
        assert body.endswith("。")
        assert body.count("《") == body.count("》")
    assert "".join(strip_hint(p) for p in parts) == text


def test_citation_line_after_long_paragraph_is_glued_and_intact() -> None:
    """A citation line following its text stays whole and next to it."""
    citation = (
        "来源：《国家知识产权局办公室关于开展知识产权试点城市工作的通知》"
        "（国知办发管字〔2017〕30号）"
    )
    long_line = "试点城市应当建立知识产权工作协调机制，完善政策体系。" * 40
    text = f"{long_line}\n{citation}\n\n另一段内容。"
    parts = [strip_hint(p) for p in split_reply(text)]
    holders = [p for p in parts if citation in p]
    assert len(holders) == 1
    assert holders[0].index(citation) > 0  # not orphaned at the start of a part


def test_text_without_any_break_is_hard_split_within_limit() -> None:
    """Even text with no punctuation at all is split within the byte limit."""
    text = "甲" * 3000
    parts = split_reply(text)
    assert all(nbytes(p) <= PASSIVE_LIMIT_BYTES for p in parts)
    assert "".join(strip_hint(p) for p in parts) == text


@settings(max_examples=150, deadline=None, database=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("政策专利质押融资。，；！？《》〔〕（）()\n 　ab1号")),
        min_size=0,
        max_size=4000,
    )
)
def test_split_property_limit_and_no_loss(text: str) -> None:
    """Every part fits; no non-whitespace character is lost or reordered."""
    parts = split_reply(text)
    for part in parts:
        assert nbytes(part) <= PASSIVE_LIMIT_BYTES
        assert part.strip()
    for part in parts[:-1]:
        assert part.endswith(SUFFIX)
    joined = "".join(strip_hint(p) for p in parts)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", text)


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=25))
def test_split_property_citation_lines_never_cut(sizes: list) -> None:
    """With many measure paragraphs, each citation line appears whole in one part."""
    paragraphs = [
        ("内容" * size) + f"\n来源：沪知局〔2023〕9号 第{i}条" for i, size in enumerate(sizes)
    ]
    parts = [strip_hint(p) for p in split_reply("\n\n".join(paragraphs))]
    for i in range(len(sizes)):
        line = f"来源：沪知局〔2023〕9号 第{i}条"
        assert sum(line in p for p in parts) == 1


def test_citation_detection() -> None:
    """文号 lines and 来源 lines count as citations; plain text does not."""
    assert is_citation_line("沪知局〔2023〕9号")
    assert is_citation_line("（国知办发管字[2017]30号）")
    assert is_citation_line("来源：大同市知识产权工作方案")
    assert not is_citation_line("支持企业开展质押融资。")


def test_more_and_number_parsing() -> None:
    """“更多” variants and option numbers (incl. full-width) are recognised."""
    assert is_more_request("更多")
    assert is_more_request(" 更多。")
    assert is_more_request("查看更多")
    assert not is_more_request("更多的支持政策有哪些")
    assert parse_option_number("2") == 2
    assert parse_option_number("２") == 2
    assert parse_option_number(" 3. ") == 3
    assert parse_option_number("12") == 12
    assert parse_option_number("123") is None
    assert parse_option_number("第2个") is None
    assert parse_option_number("") is None


def test_xml_safe_survives_wechatpy_round_trip() -> None:
    """']]>' and control characters cannot break the CDATA in our reply."""
    content = "a]]>b<c>&d\x01e"
    xml = TextReply(source="gh", target="u", content=xml_safe(content)).render()
    assert parse_message(xml).content == "a]]>b<c>&de"
