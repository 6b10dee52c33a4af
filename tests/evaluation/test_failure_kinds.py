"""Failed turns counted by the kind of reply they got (evaluation.failure_kinds), with the real domain."""

from __future__ import annotations

from evaluation.failure_kinds import failure_table, reply_kind, reply_openings
from evaluation.scoring import TurnScore


def _turn(cls: str, visible: str, correct: bool) -> TurnScore:
    """A scored turn with only what the table reads."""
    return TurnScore(id="x", text="q", category="policy", expected=["a"], visible_text=visible, cited=[], payload=[],
                     short_cited=[], doc_numbers=[], correct=correct, strict_correct=correct, payload_correct=correct,
                     cls=cls)


def test_replies_are_named_by_the_domain_response_they_open_with(domain) -> None:
    openings = reply_openings(domain)
    not_covered = domain["responses"]["utter_not_covered"][0]["text"]
    assert reply_kind(not_covered, openings) == "utter_not_covered"
    assert reply_kind("根据政策文件，为您找到以下2条相关措施（上海）：", openings) == "utter_answer_intro"
    assert reply_kind("", openings) == "empty" and reply_kind("随便一句话", openings) == "other"


def test_only_failed_turns_are_counted_most_frequent_first(domain) -> None:
    openings = reply_openings(domain)
    default = domain["responses"]["utter_default"][0]["text"]
    turns = [_turn("followup", default, False), _turn("followup", default, False), _turn("plain", "", False),
             _turn("followup", default, True)]
    assert failure_table(turns, openings) == [["followup", "utter_default", 2], ["plain", "empty", 1]]
