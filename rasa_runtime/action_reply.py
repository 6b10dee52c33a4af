"""Check action-server replies against Rasa's schema without trying every event type on every event.

Rasa 3.6 validates each reply of the action server with ``jsonschema.validate`` against
``RemoteAction.action_response_format_spec()``: it rebuilds the validator on every call, and each
event is tried against all 23 event schemas of a ``oneOf`` to prove that exactly one matches. Every
one of those schemas pins ``event`` to its own constant (and ``event`` is required), so an event can
only ever match the schema of its own type. ``ActionReplyValidator`` uses that: it checks the reply
without the events, each event against the common part of the event schema, and then against the
one schema its ``event`` names. It accepts and rejects exactly what Rasa's check does (tests compare
both on generated replies) at a tenth of the cost, which was about 10% of the Rasa server's CPU per
turn. Invalid replies raise the same ``jsonschema.ValidationError``.

``PATCH`` makes ``RemoteAction._validate_action_result`` use one validator, compiled when the patch is
installed (rasa_runtime.install.install_all). Rasa 3.6 rebuilt the validator and tried all 23 event
schemas on every event of every reply: about 40% of its CPU per turn before the validator was
compiled once, and 10% after (docs/bench.md).
"""

from __future__ import annotations

import copy
import functools
import logging
from typing import Any, Dict, Optional

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction

from rasa_runtime.patching import ClassPatch

logger = logging.getLogger(__name__)


class ActionReplyValidator:
    """Exact, faster equivalent of ``jsonschema.validate(reply, spec)`` for Rasa's action reply spec."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        """Split the spec into the reply without events, the common event part and one schema per type."""
        self.spec = spec
        reply = copy.deepcopy(spec)
        events_schema = reply["properties"]["events"]
        event_schema = events_schema.pop("items")  # the reply checks only that events is an array
        alternatives = event_schema.pop("oneOf")
        self._reply = validators.validator_for(reply)(reply)
        self._event_common = validators.validator_for(event_schema)(event_schema)
        self._by_type: Dict[str, Any] = {}
        for alternative in alternatives:
            name = alternative["properties"]["event"]["const"]
            if name in self._by_type:  # two schemas for one type: the shortcut would not be exact
                raise ValueError(f"event type {name!r} has more than one schema")
            self._by_type[name] = validators.validator_for(alternative)(alternative)
        self._full: Optional[Any] = None

    def validate(self, reply: Any) -> None:
        """Raise jsonschema.ValidationError when the reply is not valid."""
        self._reply.validate(reply)
        if not isinstance(reply, dict) or "events" not in reply:
            return
        for event in reply["events"]:
            self._event_common.validate(event)  # an object with a string "event", or it raises
            checker = self._by_type.get(event["event"])
            if checker is None or not checker.is_valid(event):
                self._explain(reply)

    def _explain(self, reply: Any) -> None:
        """Raise jsonschema's own error for an invalid reply (rare: the full, slow check)."""
        if self._full is None:
            self._full = validators.validator_for(self.spec)(self.spec)
        self._full.validate(reply)
        raise ValidationError("event does not match its type's schema")  # not reached: the full check raised


@functools.lru_cache(maxsize=1)
def compiled_validator() -> ActionReplyValidator:
    """The validator of Rasa's action reply spec, built once."""
    return ActionReplyValidator(RemoteAction.action_response_format_spec())


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the compiled validator."""
    try:
        compiled_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += ". Failed to validate Action server response from API."
        raise


PATCH = ClassPatch(RemoteAction, "_validate_action_result", _validate_action_result, prepare=compiled_validator)
install, uninstall = PATCH.install, PATCH.uninstall
