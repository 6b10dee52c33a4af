"""The evaluation's conversation with a running assistant: REST client, one scored case, every case of a set."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import requests

from evaluation.scoring import Case, CitationIndex, Conversation, ConversationScore, TurnScore, score_answer

logger = logging.getLogger(__name__)



class RestClient:
    """Sends messages to Rasa's REST channel."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def say(self, sender: str, text: str) -> list[dict]:
        """The bot's messages for one user message (one retry on a connection problem)."""
        for attempt in (1, 2):
            try:
                response = self.session.post(f"{self.base_url}/webhooks/rest/webhook",
                                             json={"sender": sender, "message": text}, timeout=self.timeout)
                response.raise_for_status()
                return response.json()
            except (requests.ConnectionError, requests.Timeout):
                if attempt == 2:
                    raise
                time.sleep(2)
        return []

    def status(self) -> dict[str, Any]:
        """Rasa's /status (model file and id), {} when it is not available."""
        try:
            response = self.session.get(f"{self.base_url}/status", timeout=10)
            return response.json() if response.status_code == 200 else {}
        except (requests.RequestException, ValueError):
            return {}


def ask(client: RestClient, sender: str, case: Case, index: CitationIndex,
        visible_text: Callable[[list[dict]], str]) -> TurnScore:
    """Send one case and score the reply."""
    t0 = time.monotonic()
    try:
        messages = client.say(sender, case.text)
        error = ""
    except requests.RequestException as exc:
        messages, error = [], f"{type(exc).__name__}: {exc}"
    score = score_answer(case, visible_text(messages), messages, index, seconds=time.monotonic() - t0, error=error)
    score.sender = sender
    return score


def run_answers(client: RestClient, cases: Sequence[Case], conversations: Sequence[Conversation],
                index: CitationIndex, visible_text: Callable[[list[dict]], str]
                ) -> tuple[list[TurnScore], list[ConversationScore]]:
    """Every single-turn case with a fresh sender id; every conversation with one sender id."""
    run_id = uuid.uuid4().hex[:8]
    singles = []
    for n, case in enumerate(cases, start=1):
        singles.append(ask(client, f"eval-{run_id}-{case.id}", case, index, visible_text))
        if n % 50 == 0:
            print(f"  {n}/{len(cases)} single-turn cases", flush=True)
    convs = []
    for conv in conversations:
        sender = f"eval-{run_id}-{conv.id}"
        convs.append(ConversationScore(conv.id, [ask(client, sender, turn, index, visible_text) for turn in conv.turns],
                                       conv.persona))
    print(f"  {len(conversations)} conversations done", flush=True)
    return singles, convs
