"""pytest plugin: `--forbid-import=MODULE` makes a session fail if MODULE gets imported (make test-fast: tensorflow).

The first test during which the module is imported gets an error at its teardown, naming the import chain in the
project's files; if it was imported while the tests were collected (a test module's or a conftest's imports), the
first test errors at its setup instead of running.
"""

from __future__ import annotations

import importlib.abc
import sys
import traceback
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

import pytest

WATCHER = pytest.StashKey["ImportWatcher"]()


class ImportWatcher(importlib.abc.MetaPathFinder):
    """Notes where each forbidden top-level module is first imported; imports go on as usual."""

    def __init__(self, names: Sequence[str], root: Path) -> None:
        self.names = tuple(names)
        self.root = root
        self.chains: dict[str, List[str]] = {}
        self.reported: set[str] = set()

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        """Record the project frames importing a forbidden module; never finds anything itself."""
        if fullname in self.names and fullname not in self.chains:
            self.chains[fullname] = project_frames(traceback.extract_stack()[:-1], self.root)
        return None

    def newly_imported(self) -> List[str]:
        """Forbidden modules now imported and not reported yet (each is reported once)."""
        found = [name for name in self.names if name in sys.modules and name not in self.reported]
        self.reported.update(found)
        return found

    def explain(self, name: str) -> str:
        """Where the module was imported from, as far as the project's files show it."""
        chain = self.chains.get(name)
        if chain is None:
            return "it was imported before the session started (a plugin or the initial conftest)"
        return "imported from:\n  " + "\n  ".join(chain or ["(no project file on the stack)"])


def project_frames(stack: traceback.StackSummary, root: Path) -> List[str]:
    """The stack's frames in the project's own files (under root, not installed packages), as file:line."""
    prefix = f"{root}/"
    return [f"{frame.filename[len(prefix):]}:{frame.lineno}" for frame in stack
            if frame.filename.startswith(prefix) and "/site-packages/" not in frame.filename
            and not frame.filename.endswith("import_guard.py")]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register --forbid-import."""
    parser.addoption("--forbid-import", action="append", default=[], metavar="MODULE",
                     help="fail the session if this top-level module is imported (repeatable)")


def pytest_configure(config: pytest.Config) -> None:
    """Start watching imports when --forbid-import is given."""
    names = config.getoption("--forbid-import")
    if names:
        watcher = ImportWatcher(names, config.rootpath)
        sys.meta_path.insert(0, watcher)
        config.stash[WATCHER] = watcher


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop watching."""
    watcher: Optional[ImportWatcher] = config.stash.get(WATCHER, None)
    if watcher is not None and watcher in sys.meta_path:
        sys.meta_path.remove(watcher)


@pytest.fixture(autouse=True)
def _forbidden_imports(request: pytest.FixtureRequest) -> Iterator[None]:
    """Error the test before which (collection) or during which a forbidden module was imported."""
    watcher: Optional[ImportWatcher] = request.config.stash.get(WATCHER, None)
    if watcher is None:
        yield
        return
    for name in watcher.newly_imported():
        pytest.fail(f"--forbid-import={name}: {name} was imported while the tests were collected; "
                    f"{watcher.explain(name)}", pytrace=False)
    yield
    for name in watcher.newly_imported():
        pytest.fail(f"--forbid-import={name}: this test imported {name}; {watcher.explain(name)}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A forbidden module imported after the last test still fails the session."""
    watcher: Optional[ImportWatcher] = session.config.stash.get(WATCHER, None)
    if watcher is not None and watcher.newly_imported() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
