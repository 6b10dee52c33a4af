"""The benchmark's conversations (bench/conversations.yml): loading and checking replies against them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent / "conversations.yml"
KINDS = ("question", "followup", "region", "more", "chitchat", "out_of_scope")
EXPECTATIONS = ("kb_answer", "text", "any")


@dataclass(frozen=True)
class Turn:
    """One user message and what its reply should contain."""

    text: str
    kind: str = "question"
    expect: str = "any"


@dataclass(frozen=True)
class Conversation:
    """A named sequence of turns."""

    id: str
    turns: Tuple[Turn, ...]
    description: str = ""


def load_conversations(path: Optional[Path] = None) -> List[Conversation]:
    """Read and check the conversations file; a malformed file raises ValueError naming the problem."""
    path = Path(path or DEFAULT_FILE)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = data.get("conversations")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: no `conversations` list")
    conversations: List[Conversation] = []
    seen = set()
    for number, item in enumerate(raw, start=1):
        cid = str(item.get("id") or f"conversation-{number}")
        if cid in seen:
            raise ValueError(f"{path}: duplicate conversation id {cid!r}")
        seen.add(cid)
        turns = []
        for index, turn in enumerate(item.get("turns") or [], start=1):
            if isinstance(turn, str):
                turn = {"text": turn}
            text = str(turn.get("text", "")).strip()
            kind = turn.get("kind", "question")
            expect = turn.get("expect", "any")
            if not text:
                raise ValueError(f"{path}: {cid} turn {index} has no text")
            if kind not in KINDS:
                raise ValueError(f"{path}: {cid} turn {index}: kind {kind!r} not in {KINDS}")
            if expect not in EXPECTATIONS:
                raise ValueError(f"{path}: {cid} turn {index}: expect {expect!r} not in {EXPECTATIONS}")
            turns.append(Turn(text=text, kind=kind, expect=expect))
        if not turns:
            raise ValueError(f"{path}: {cid} has no turns")
        conversations.append(Conversation(id=cid, turns=tuple(turns), description=str(item.get("description", ""))))
    return conversations


def is_empty_reply(messages: object) -> bool:
    """A reply with nothing a user would see (no text, buttons, image or custom payload)."""
    if not isinstance(messages, list):
        return True
    return not any(isinstance(m, dict) and (m.get("text") or m.get("custom") or m.get("buttons") or m.get("image"))
                   for m in messages)


def has_kb_answer(messages: Sequence[dict]) -> bool:
    """Whether the reply carries the KB answer payload."""
    return any(isinstance(m, dict) and isinstance(m.get("custom"), dict) and m["custom"].get("type") == "kb_answer"
               for m in messages)


def meets_expectation(messages: Sequence[dict], expect: str) -> bool:
    """Whether a (non-empty) reply has what the turn expects."""
    if expect == "kb_answer":
        return has_kb_answer(messages)
    if expect == "text":
        return any(isinstance(m, dict) and m.get("text") for m in messages)
    return True
