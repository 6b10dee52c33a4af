"""What marks a user turn as unanswered: its intent, the action or response that followed, or a 没用 after it."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

FALLBACK = "fallback"
OUT_OF_SCOPE = "out_of_scope"
UNHELPFUL = "没用"
REASON_ORDER = (OUT_OF_SCOPE, FALLBACK, UNHELPFUL)
REASON_LABELS = {FALLBACK: "未识别（fallback）", OUT_OF_SCOPE: "超出范围", UNHELPFUL: "用户反馈没用"}

FLAG_INTENTS = {"nlu_fallback": FALLBACK, "out_of_scope": OUT_OF_SCOPE}
FLAG_ACTIONS = {
    "action_default_fallback": FALLBACK,
    "action_two_stage_fallback": FALLBACK,
    "utter_out_of_scope": OUT_OF_SCOPE,
    "utter_not_covered": OUT_OF_SCOPE,
}
# Bot messages by response name (BotUttered metadata "utter_action", also set when a custom action
# sends a domain response): the answer action's "did not understand" and the not-covered replies.
FLAG_RESPONSES = {
    "utter_default": FALLBACK,
    "utter_not_covered": OUT_OF_SCOPE,
    "utter_out_of_scope": OUT_OF_SCOPE,
}
UNHELPFUL_INTENT = "feedback_unhelpful"
# User turns that are not questions (skipped when looking for the question a 没用 refers to).
NOT_QUESTIONS = {"feedback_helpful", "feedback_unhelpful", "greet", "goodbye", "thank", "ask_whoami",
                 "ask_capabilities", "ask_more", "ask_other_region"}
LOOKBACK_TURNS = 6
