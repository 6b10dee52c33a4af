"""rasa_runtime.action_reply: the fast check of action-server replies accepts exactly what Rasa's does."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction
from rasa.shared.utils.schemas.events import EVENT_SCHEMA

from rasa_runtime import action_reply
from rasa_runtime.action_reply import ActionReplyValidator

SPEC = RemoteAction.action_response_format_spec()
VALIDATOR = ActionReplyValidator(SPEC)
EVENT_TYPES = [alt["properties"]["event"]["const"] for alt in EVENT_SCHEMA["oneOf"]]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, width=32),
                    st.sampled_from(["", "上海", "utter_greet", "slot"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.sampled_from(["a", "text", "name"]), inner,
                                                                       max_size=3)), max_leaves=6)
entity = st.fixed_dictionaries({"entity": st.one_of(st.sampled_from(["region", "ip_type"]), scalars)},
                               optional={"value": values, "start": st.one_of(st.integers(0, 9), scalars),
                                         "extractor": scalars})
keys = st.sampled_from(["name", "value", "text", "timestamp", "metadata", "entities", "parse_data", "policy",
                        "confidence", "hide_rule_turn", "action_text", "input_channel", "message_id"])
field_values = st.one_of(values, st.lists(entity, max_size=2),
                         st.fixed_dictionaries({}, optional={"intent": st.one_of(
                             st.fixed_dictionaries({}, optional={"name": scalars, "confidence": scalars}), scalars),
                             "entities": st.one_of(st.lists(entity, max_size=2), scalars),
                             "text": scalars}))
event = st.builds(lambda kind, fields: {**fields, **({} if kind is None else {"event": kind})},
                  st.one_of(st.none(), st.sampled_from(EVENT_TYPES + ["unknown", ""]), scalars),
                  st.dictionaries(keys, field_values, max_size=4))
names = st.sampled_from(["region", "last_measure_ids", "action_listen", "utter_greet"])
good_entity = st.fixed_dictionaries({"entity": names, "value": values},
                                    optional={"start": st.integers(0, 9), "extractor": st.one_of(st.none(), names)})
valid_event = st.one_of(
    st.fixed_dictionaries({"event": st.just("slot"), "name": names, "value": values},
                          optional={"timestamp": st.one_of(st.none(), st.floats(0, 2e9))}),
    st.fixed_dictionaries({"event": st.just("action")},
                          optional={"name": st.one_of(st.none(), names), "policy": st.one_of(st.none(), names),
                                    "confidence": st.one_of(st.none(), st.floats(0, 1)), "hide_rule_turn": st.booleans()}),
    st.fixed_dictionaries({"event": st.just("user")},
                          optional={"text": st.one_of(st.none(), names), "parse_data": st.fixed_dictionaries(
                              {}, optional={"intent": st.fixed_dictionaries({"name": names, "confidence": st.floats(0, 1)}),
                                            "entities": st.lists(good_entity, max_size=2)})}),
    st.fixed_dictionaries({"event": st.sampled_from(EVENT_TYPES)}, optional={"metadata": st.one_of(
        st.none(), st.dictionaries(names, scalars, max_size=2))}),
    st.fixed_dictionaries({"event": st.just("entities"), "entities": st.lists(good_entity, max_size=2)}),
)
reply = st.one_of(
    st.fixed_dictionaries({}, optional={"events": st.one_of(st.lists(valid_event, max_size=4),
                                                            st.lists(st.one_of(valid_event, event, scalars), max_size=4),
                                                            values),
                                        "responses": st.one_of(st.lists(st.one_of(
                                            st.fixed_dictionaries({}, optional={"text": scalars, "custom": values}),
                                            scalars), max_size=3), values)}),
    values)


def rasa_accepts(candidate: Any) -> bool:
    """What Rasa 3.6's own check says."""
    try:
        jsonschema.validate(candidate, SPEC)
        return True
    except jsonschema.ValidationError:
        return False


def ours_accepts(candidate: Any) -> bool:
    """What ActionReplyValidator says."""
    try:
        VALIDATOR.validate(candidate)
        return True
    except jsonschema.ValidationError:
        return False


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reply)
def test_same_verdict_as_rasa_on_generated_replies(candidate: Any) -> None:
    """Random replies, valid and invalid: the same verdict as jsonschema.validate with Rasa's spec."""
    assert ours_accepts(candidate) == rasa_accepts(candidate)


@pytest.mark.parametrize("candidate, valid", [
    ({"events": [{"event": "slot", "name": "region", "value": "上海"}], "responses": [{"text": "好"}]}, True),
    ({"events": [{"event": "slot", "value": "上海"}]}, False),  # SlotSet without its name
    ({"events": [{"event": "user", "parse_data": {"entities": [{"entity": "x"}]}}]}, False),  # entity w/o value
    ({"events": [{"event": "followup", "name": "action_listen"}]}, True),
    ({"events": [{"event": "no_such_event"}]}, False),
    ({"events": [{"name": "region"}]}, False),  # no event type
    ({"events": {"event": "slot"}}, False),
    ({"responses": ["text"]}, False),
    ({}, True),
    ([], False),
])
def test_known_replies(candidate: Any, valid: bool) -> None:
    """Hand-picked replies, including each way a reply can be wrong."""
    assert rasa_accepts(candidate) is valid
    assert ours_accepts(candidate) is valid


def test_error_message_comes_from_jsonschema() -> None:
    """An invalid event gets jsonschema's own explanation, not a generic one."""
    with pytest.raises(jsonschema.ValidationError) as caught:
        VALIDATOR.validate({"events": [{"event": "slot", "value": 1}]})
    assert "is not valid under any of the given schemas" in caught.value.message


def test_real_reply_of_the_answer_action_is_accepted(tmp_path: Any) -> None:
    """A reply shaped like the answer action's (slots, a text and the kb_answer payload)."""
    candidate = {"events": [{"event": "slot", "timestamp": None, "name": "last_measure_ids", "value": ["shgov-1"]},
                            {"event": "slot", "timestamp": None, "name": "region", "value": None}],
                 "responses": [{"text": "……", "buttons": [{"title": "上海", "payload": "/ask"}],
                                "custom": {"type": "kb_answer", "measures": [{"id": "shgov-1"}]}}]}
    assert rasa_accepts(candidate) and ours_accepts(candidate)


def test_the_patch_accepts_and_rejects_like_rasa() -> None:
    """Installed on RemoteAction, the compiled validator accepts valid action replies and rejects malformed ones,
    as jsonschema.validate does, with Rasa's note added to the error."""
    action = RemoteAction.__new__(RemoteAction)
    good = {"events": [{"event": "slot", "name": "region", "value": "上海"}], "responses": [{"response": "utter_greet"}]}
    bad = {"events": "not a list", "responses": []}
    jsonschema.validate(good, SPEC)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SPEC)
    installed_here = action_reply.install()
    try:
        assert RemoteAction._validate_action_result is action_reply._validate_action_result
        assert action._validate_action_result(good) is True
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result(bad)
    finally:
        if installed_here:
            action_reply.uninstall()
