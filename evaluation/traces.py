"""NLU traces of an evaluation run, read back from the stack's SQLite tracker store (intent, confidence, actions)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.scoring import ConversationScore, TurnScore
from rasa_stores.events_table import select_sql

logger = logging.getLogger(__name__)



def tracker_traces(db_path: Path, senders: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Per sender, one record per user message: intent, confidence, top non-fallback intent, actions.

    Read from the stack's SQLite tracker store after the run (only for a stack this runner started).
    """
    out: dict[str, list[dict[str, Any]]] = {}
    if not db_path.is_file():
        return out
    wanted = set(senders)
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(select_sql(("sender_id", "type_name", "action_name", "data"))).fetchall()
    for sender, kind, action, data in rows:
        if sender not in wanted:
            continue
        turns = out.setdefault(sender, [])
        if kind == "user":
            try:
                event = json.loads(data)
            except ValueError:
                event = {}
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
            turns.append({"intent": intent.get("name"), "confidence": _round(intent.get("confidence")),
                          "top_intent": ranking[0].get("name") if ranking else intent.get("name"),
                          "top_confidence": _round(ranking[0].get("confidence")) if ranking else _round(intent.get("confidence")),
                          "entities": [f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []],
                          "actions": [], "model_id": (event.get("metadata") or {}).get("model_id")})
        elif kind == "action" and turns and action not in ("action_listen", None):
            turns[-1]["actions"].append(action)
    return out


def _round(value: Any) -> Any:
    """A confidence rounded for reading."""
    return round(value, 3) if isinstance(value, (int, float)) else value


def attach_traces(singles: Sequence[TurnScore], convs: Sequence[ConversationScore], db_path: Path) -> bool:
    """Fill TurnScore.trace from the tracker store; whether anything was found."""
    senders = [s.sender for s in singles] + [t.sender for c in convs for t in c.turns]
    traces = tracker_traces(db_path, senders)
    for score in singles:
        turns = traces.get(score.sender) or []
        score.trace = turns[0] if turns else {}
    for conv in convs:
        for n, turn in enumerate(conv.turns):
            turns = traces.get(turn.sender) or []
            turn.trace = turns[n] if n < len(turns) else {}
    return bool(traces)


def trace_text(score: TurnScore) -> str:
    """'intent ask_x 0.91 → action_y' (with the top intent when NLU fell back)."""
    t = score.trace
    if not t:
        return ""
    intent = f"{t['intent']} {t['confidence']}"
    if t["intent"] == "nlu_fallback":
        intent += f" (top {t['top_intent']} {t['top_confidence']})"
    entities = f" [{', '.join(t['entities'])}]" if t.get("entities") else ""
    return f"intent {intent}{entities} → {', '.join(t['actions']) or '-'}"
