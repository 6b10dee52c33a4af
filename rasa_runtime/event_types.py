"""A table lookup for Rasa's event types instead of a walk over all Event subclasses per event.

Rasa 3.6 turns every stored or received event back into an object with ``Event.resolve_by_type``,
which lists all (non-abstract) subclasses of ``Event`` recursively, calling ``inspect.isabstract`` on
each, for every single event: reading a tracker of 40 events walks the class tree 40 times. That
was about 8% of the Rasa server's CPU per turn (py-spy, docs/bench.md). ``PATCH`` replaces it
with a dictionary built from the same walk, in the same order (the first class with a type name
wins, as before), built when the patch is installed and rebuilt when a name is not found, so event
classes defined later still resolve. rasa_runtime.install.install_all installs it.
"""

from __future__ import annotations

import logging
from typing import Dict, Optional, Type

from rasa.shared.core import events
from rasa.shared.utils.common import all_subclasses

from rasa_runtime.patching import ClassPatch

logger = logging.getLogger(__name__)

_by_name: Dict[str, Type[events.Event]] = {}


def _rebuild() -> None:
    """Map each type name to the first subclass that has it, in all_subclasses() order."""
    table: Dict[str, Type[events.Event]] = {}
    for cls in all_subclasses(events.Event):
        table.setdefault(cls.type_name, cls)
    _by_name.clear()
    _by_name.update(table)


def resolve_by_type(type_name: str, default: Optional[Type[events.Event]] = None) -> Optional[Type[events.Event]]:
    """Event.resolve_by_type with a table: same results, same errors."""
    cls = _by_name.get(type_name)
    if cls is None:
        _rebuild()
        cls = _by_name.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa keeps this for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


PATCH = ClassPatch(events.Event, "resolve_by_type", staticmethod(resolve_by_type), prepare=_rebuild)
install, uninstall = PATCH.install, PATCH.uninstall
