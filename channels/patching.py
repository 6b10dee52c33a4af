"""One replaced attribute of a Rasa class, installed once and restorable (the speed-ups in channels/)."""

from __future__ import annotations

from typing import Any


class ClassPatch:
    """Put ``replacement`` in place of ``owner.name``; ``uninstall`` brings Rasa's own back (tests)."""

    def __init__(self, owner: type, name: str, replacement: Any) -> None:
        """Remember what to replace; nothing changes until install()."""
        self.owner = owner
        self.name = name
        self.replacement = replacement
        self.original: Any = None

    @property
    def installed(self) -> bool:
        """True while the replacement is in place."""
        return self.original is not None

    def install(self) -> bool:
        """Replace the attribute once; True when this call did it."""
        if self.installed:
            return False
        self.original = self.owner.__dict__[self.name]
        setattr(self.owner, self.name, self.replacement)
        return True

    def uninstall(self) -> None:
        """Restore the original attribute."""
        if self.installed:
            setattr(self.owner, self.name, self.original)
            self.original = None
