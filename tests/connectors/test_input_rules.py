"""connectors.input_rules: one message cap for every input channel, set in one place."""

from __future__ import annotations

import asyncio
import re
from typing import Any, List

import pytest
import yaml
from rasa.core.channels.channel import UserMessage

from connectors import input_rules
from connectors.input_rules import MAX_MESSAGE_CHARS, clean_text, max_message_chars, valid_sender
from connectors.rest import SafeRestInput
from connectors.socketio import SafeSocketIOInput
from connectors.wechat.channel import WeChatInput
from connectors.wechat.protocol import Incoming
from connectors.wechat.store import MemoryStore
from settings import PROJECT_ROOT as ROOT

CREDENTIALS = (ROOT / "credentials.yml", ROOT / "deploy" / "credentials.prod.yml")


def test_every_channel_defaults_to_the_one_cap() -> None:
    """REST and socket.io built from credentials without max_message_chars use MAX_MESSAGE_CHARS."""
    assert SafeRestInput.from_credentials(None).max_message_chars == MAX_MESSAGE_CHARS
    assert SafeRestInput.from_credentials({}).max_message_chars == MAX_MESSAGE_CHARS
    assert SafeSocketIOInput.from_credentials({"session_persistence": True}).max_message_chars == MAX_MESSAGE_CHARS


@pytest.mark.parametrize("raw, expected", [(500, 500), ("300", 300), (None, MAX_MESSAGE_CHARS), ("", MAX_MESSAGE_CHARS),
                                           ("many", MAX_MESSAGE_CHARS), (0, MAX_MESSAGE_CHARS), (-5, MAX_MESSAGE_CHARS)])
def test_credentials_may_set_another_cap(raw: Any, expected: int) -> None:
    """max_message_chars in credentials.yml: a positive integer, anything else falls back to the cap."""
    assert max_message_chars({"max_message_chars": raw}) == expected
    assert SafeRestInput.from_credentials({"max_message_chars": raw}).max_message_chars == expected


def test_the_credentials_files_use_the_default_cap() -> None:
    """No channel of either credentials file sets its own number: the cap lives in input_rules only."""
    for path in CREDENTIALS:
        for channel, options in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            assert "max_message_chars" not in (options or {}), (path.name, channel)


def test_no_other_module_of_the_channels_sets_a_cap() -> None:
    """The connectors import the cap; none of them writes a number of its own."""
    for path in (ROOT / "connectors").rglob("*.py"):
        if path.name == "input_rules.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(2000|5000)\b", text), path


def test_clean_text_cuts_to_the_cap_and_keeps_newlines() -> None:
    """Control characters become spaces (newline and tab stay), lone surrogates are replaced, the text is cut."""
    assert clean_text("专" * (3 * MAX_MESSAGE_CHARS)) == "专" * MAX_MESSAGE_CHARS
    assert clean_text("a\x00b\nc\td\ud800") == "a b\nc\td\ufffd"
    assert clean_text("  专利  ", 10) == "专利"


def test_valid_sender_follows_the_tracker_store() -> None:
    """1 to MAX_SENDER_CHARS printable characters; integers become text; the rest is refused."""
    assert input_rules.MAX_SENDER_CHARS == 255
    assert valid_sender("a" * 255) == "a" * 255 and valid_sender(42) == "42"
    for bad in ("", "a" * 256, "a\x00b", True, None, 1.5, ["a"]):
        assert valid_sender(bad) is None


def test_wechat_forwards_at_most_the_cap() -> None:
    """The WeChat channel cuts the text it hands to Rasa to the same cap."""
    seen: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        seen.append(message)

    async def scenario() -> None:
        channel = WeChatInput(token="t", store=MemoryStore())
        incoming = Incoming(fields={"FromUserName": "o", "ToUserName": "gh", "MsgType": "text", "MsgId": "1"},
                            safe_mode=False, nonce="n")
        loop = asyncio.get_running_loop()
        await channel._ask_rasa("专" * (MAX_MESSAGE_CHARS + 500), incoming, on_new_message, loop.time() + 2)

    asyncio.run(scenario())
    assert [len(message.text) for message in seen] == [MAX_MESSAGE_CHARS]
