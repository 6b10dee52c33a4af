"""One replaced attribute of a Rasa class, installed once and restorable: the only way rasa_runtime changes Rasa."""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

logger = logging.getLogger(__name__)


class ClassPatch:
    """Put ``replacement`` in place of ``owner.name``; ``uninstall`` brings Rasa's own back (tests)."""

    def __init__(self, owner: type, name: str, replacement: Any,
                 prepare: Optional[Callable[[], Any]] = None) -> None:
        """Remember what to replace; nothing changes until install(), which first calls ``prepare`` (if given)."""
        self.owner = owner
        self.name = name
        self.replacement = replacement
        self.prepare = prepare
        self.original: Any = None

    @property
    def target(self) -> str:
        """``module.Class.attribute`` of what is replaced (for logs and errors)."""
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"

    @property
    def installed(self) -> bool:
        """True while the replacement is in place."""
        return self.original is not None

    def install(self) -> bool:
        """Replace the attribute once; True when this call did it."""
        if self.installed:
            return False
        original = self.owner.__dict__[self.name]
        if self.prepare is not None:
            self.prepare()
        self.original = original
        setattr(self.owner, self.name, self.replacement)
        logger.debug("%s replaced", self.target)
        return True

    def uninstall(self) -> None:
        """Restore the original attribute."""
        if self.installed:
            setattr(self.owner, self.name, self.original)
            self.original = None
