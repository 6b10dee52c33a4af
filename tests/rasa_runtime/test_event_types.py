"""rasa_runtime.event_types: the event-type table resolves exactly as Rasa's walk over Event subclasses."""

from __future__ import annotations

from typing import Iterator

import pytest
from rasa.shared.core import events
from rasa.shared.utils.common import all_subclasses

from rasa_runtime import event_types


@pytest.fixture
def table() -> Iterator[None]:
    """The table installed for one test, Rasa's lookup restored afterwards."""
    original = events.Event.resolve_by_type
    event_types.install()
    try:
        yield
    finally:
        event_types.uninstall()
        assert events.Event.resolve_by_type == original


def rasa_lookup(name: str, default: object = None) -> object:
    """Rasa 3.6's own resolve_by_type, for comparison."""
    for cls in all_subclasses(events.Event):
        if cls.type_name == name:
            return cls
    if name == "topic":
        return None
    if default is not None:
        return default
    raise ValueError(name)


def test_every_known_type_name_resolves_to_the_same_class(table: None) -> None:
    """All type names of all event classes, including ones several classes share."""
    names = {cls.type_name for cls in all_subclasses(events.Event)}
    assert len(names) > 20
    for name in sorted(names):
        assert events.Event.resolve_by_type(name) is rasa_lookup(name)


def test_unknown_names_behave_as_before(table: None) -> None:
    """'topic' gives None, an unknown name the default or ValueError."""
    assert events.Event.resolve_by_type("topic") is None
    assert events.Event.resolve_by_type("no_such", events.BotUttered) is events.BotUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        events.Event.resolve_by_type("no_such")


def test_events_defined_later_are_found(table: None) -> None:
    """A subclass created after installation resolves (the table is rebuilt on a miss)."""

    class LateEvent(events.Event):  # noqa: B903 - a minimal concrete event
        type_name = "late_event_for_test"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, LateEvent)

        def __hash__(self) -> int:
            return 1

        def as_story_string(self) -> str:
            return ""

    assert events.Event.resolve_by_type("late_event_for_test") is LateEvent


def test_trackers_deserialise_the_same(table: None) -> None:
    """A round trip of a tracker's events through from_parameters gives equal events."""
    sample = [events.UserUttered("你好", {"name": "greet", "confidence": 1.0}), events.ActionExecuted("action_listen"),
              events.SlotSet("region", "上海"), events.BotUttered("您好"), events.SessionStarted()]
    assert events.deserialise_events([e.as_dict() for e in sample]) == sample
