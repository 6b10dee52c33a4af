"""Turn collected Rasa bot messages into WeChat text replies (options, byte-limited parts)."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

logger = logging.getLogger(__name__)

# WeChat's limit for the Content of a passive text reply, in UTF-8 bytes.
PASSIVE_LIMIT_BYTES = 2048
MORE_HINT = "回复“更多”查看其余内容"
OPTIONS_HEADER = "回复数字选择："
MORE_WORDS = frozenset({"更多", "查看更多", "更多内容", "more"})

HOLDING_TEXT = "正在为您查询，请稍候，答案将很快发送给您。"
ERROR_TEXT = "抱歉，系统暂时无法回答您的问题，请稍后再试。"
EMPTY_ANSWER_TEXT = "抱歉，我暂时没有找到相关内容，您可以换个说法再问一次。"
ONLY_TEXT_NOTE = "抱歉，目前我只能理解文字消息，请直接输入您想咨询的知识产权政策问题。"
VOICE_UNRECOGNIZED_NOTE = "抱歉，没能识别这条语音的内容，请改用文字输入您的问题。"
PROMPT_TEXT = "请直接输入您想咨询的知识产权政策问题。"  # the reply to an empty message

WELCOME_TEXT = (
    "您好，欢迎关注！我是知识产权政策问答助手，可以为中小企业解答上海、大同及国家层面的"
    "知识产权政策问题。您可以直接输入问题，或回复数字选择："
)
# (menu title, question sent to the assistant when the user replies with the number)
WELCOME_MENU: Tuple[Tuple[str, str], ...] = (
    ("知识产权质押融资", "知识产权质押融资有什么支持政策"),
    ("专利资助与奖励", "有哪些专利资助和奖励政策"),
    ("海外布局与纠纷应对", "企业遇到海外知识产权纠纷怎么应对"),
    ("专利导航与运营", "专利导航和知识产权运营有什么政策"),
    ("知识产权保护与维权", "遇到知识产权侵权怎么维权"),
    ("试点城市申报", "知识产权试点城市怎么申报"),
)

# A 文号 such as 沪知局〔2023〕9号 / 国知办发管字[2017]30号, or a line that names its source.
_CITATION_RE = re.compile(
    r"[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*第?\s*\d+\s*号"
    r"|^\s*[（(【\[]?\s*(来源|出处|依据|政策依据|原文|引用|文号)\s*[：:]"
)
_OPEN = "《〔（(【「“[［"
_CLOSE = "》〕）)】」”]］"
_SENTENCE_END = "。！？；!?;"
_CLAUSE_END = "，、,：:"
# Characters not allowed in XML 1.0 (WeChat would reject the reply).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Option:
    """One numbered choice: what the user sees and what is sent to Rasa."""

    title: str
    payload: str


@dataclass
class Rendered:
    """Plain text of a bot turn plus the numbered options it offered."""

    text: str
    options: List[Option] = field(default_factory=list)


def nbytes(text: str) -> int:
    """Return the UTF-8 length of text."""
    return len(text.encode("utf-8"))


def xml_safe(text: str) -> str:
    """Drop XML-invalid control characters and keep ']]>' from closing wechatpy's CDATA."""
    return _XML_BAD.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def is_citation_line(line: str) -> bool:
    """Return True when the line carries a 文号 or names its source (来源：…)."""
    return bool(_CITATION_RE.search(line))


def _normalize(text: str) -> str:
    """NFKC-normalize (full-width digits → ASCII) and strip whitespace."""
    return unicodedata.normalize("NFKC", text or "").strip()


def is_more_request(text: str) -> bool:
    """Return True for “更多” (and a few harmless variants)."""
    norm = _normalize(text).strip(" 。.!！?？,，\"'“”‘’「」").lower()
    return norm in MORE_WORDS


def parse_option_number(text: str) -> Optional[int]:
    """Return N when the whole message is a number like '2', '２' or '2.'; else None."""
    norm = _normalize(text).rstrip(".。、")
    if re.fullmatch(r"\d{1,2}", norm):
        return int(norm)
    return None


def _button_lines(buttons: Iterable[Dict[str, Any]], options: List[Option]) -> List[str]:
    """Render buttons as numbered lines, appending payload buttons to options."""
    lines: List[str] = []
    for button in buttons:
        if not isinstance(button, dict):
            continue
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = button.get("payload")
        url = button.get("url")
        if payload:
            options.append(Option(title=title or str(payload), payload=str(payload)))
            lines.append(f"{len(options)}. {title or payload}")
        elif url:
            lines.append(f"{title}：{url}" if title else str(url))
    return lines


def _kb_fallback(custom: Dict[str, Any]) -> List[str]:
    """Render a kb_answer payload's measures (used only when nothing else is visible)."""
    paragraphs: List[str] = []
    measures = custom.get("measures") if isinstance(custom, dict) else None
    for measure in measures or []:
        if not isinstance(measure, dict):
            continue
        lines = [str(measure.get(k) or "").strip() for k in ("title", "text")]
        citation = str(measure.get("citation") or measure.get("document") or "").strip()
        if citation:
            lines.append(f"来源：{citation}")
        body = "\n".join(line for line in lines if line)
        if body:
            paragraphs.append(body)
    return paragraphs


def render_messages(messages: Iterable[Dict[str, Any]]) -> Rendered:
    """Join a CollectingOutputChannel's messages into WeChat text and numbered options."""
    paragraphs: List[str] = []
    options: List[Option] = []
    customs: List[Dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        block: List[str] = []
        text = message.get("text")
        if text:
            block.append(str(text).strip())
        buttons = message.get("buttons") or message.get("quick_replies")
        if buttons:
            had_options = bool(options)
            lines = _button_lines(buttons, options)
            if lines:
                if not had_options and len(options) > 0:
                    block.append(OPTIONS_HEADER)
                block.extend(lines)
        if message.get("image"):
            block.append(f"图片：{message['image']}")
        attachment = message.get("attachment")
        if attachment:
            if isinstance(attachment, dict):
                url = (attachment.get("payload") or {}).get("src") or attachment.get("url")
                if url:
                    block.append(f"附件：{url}")
            else:
                block.append(f"附件：{attachment}")
        if isinstance(message.get("custom"), dict):
            customs.append(message["custom"])
        joined = "\n".join(part for part in block if part)
        if joined:
            paragraphs.append(joined)
    if not paragraphs:
        for custom in customs:
            paragraphs.extend(_kb_fallback(custom))
    return Rendered(text="\n\n".join(paragraphs).strip(), options=options)


def welcome() -> Rendered:
    """Return the subscribe greeting with its numbered menu."""
    options = [Option(title=t, payload=q) for t, q in WELCOME_MENU]
    lines = [f"{i}. {o.title}" for i, o in enumerate(options, start=1)]
    return Rendered(text=WELCOME_TEXT + "\n" + "\n".join(lines), options=options)


def _split_at(text: str, stops: str) -> List[str]:
    """Split after each stop character that is outside brackets/quotes."""
    pieces: List[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif ch in stops and depth == 0:
            pieces.append(text[start : i + 1])
            start = i + 1
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _hard_split(text: str, budget: int) -> List[str]:
    """Cut text into character runs of at most budget bytes (last resort)."""
    pieces: List[str] = []
    current = ""
    for ch in text:
        if current and nbytes(current + ch) > budget:
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


def _split_long(text: str, budget: int, levels: Tuple[str, ...]) -> List[str]:
    """Split an over-long line at sentence, then clause, then character boundaries."""
    if nbytes(text) <= budget:
        return [text]
    if not levels:
        return _hard_split(text, budget)
    pieces: List[str] = []
    for piece in _split_at(text, levels[0]):
        if nbytes(piece) <= budget:
            pieces.append(piece)
        else:
            pieces.extend(_split_long(piece, budget, levels[1:]))
    return pieces


def _units(text: str, budget: int) -> List[Tuple[str, str]]:
    """Return (separator-before, chunk) units, each at most budget bytes."""
    units: List[Tuple[str, str]] = []
    for para in re.split(r"\n[ \t\u3000]*\n+", text.strip()):
        para = para.strip("\n")
        if not para.strip():
            continue
        if nbytes(para) <= budget:
            units.append(("\n\n", para))
            continue
        sep = "\n\n"
        for line in para.split("\n"):
            for j, piece in enumerate(_split_long(line, budget, (_SENTENCE_END, _CLAUSE_END))):
                units.append((sep if j == 0 else "", piece))
            sep = "\n"
    return _glue_citations(units, budget)


def _glue_citations(units: List[Tuple[str, str]], budget: int) -> List[Tuple[str, str]]:
    """Merge a short stand-alone citation line into the unit before it when it fits."""
    merged: List[Tuple[str, str]] = []
    for sep, chunk in units:
        standalone = "\n" not in chunk and sep != "" and nbytes(chunk) <= 400
        if merged and standalone and is_citation_line(chunk):
            prev_sep, prev = merged[-1]
            candidate = prev + sep + chunk
            if nbytes(candidate) <= budget:
                merged[-1] = (prev_sep, candidate)
                continue
        merged.append((sep, chunk))
    return merged


def split_reply(text: str, limit: int = PASSIVE_LIMIT_BYTES) -> List[str]:
    """Split text into parts of at most limit bytes; all but the last end with MORE_HINT."""
    text = (text or "").strip()
    if not text:
        return []
    if nbytes(text) <= limit:
        return [text]
    suffix = "\n\n" + MORE_HINT
    budget = limit - nbytes(suffix)
    parts: List[str] = []
    current = ""
    for sep, chunk in _units(text, budget):
        candidate = current + sep + chunk if current else chunk
        if nbytes(candidate) <= budget:
            current = candidate
        else:
            parts.append(current)
            current = chunk
    if current:
        parts.append(current)
    return [p + suffix for p in parts[:-1]] + parts[-1:]
