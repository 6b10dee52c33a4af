"""Fixtures of the knowledge-base tests: the real KB, and writable copies of its files to corrupt."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import pytest


from policies_kb import clear_cache, load_kb
from policies_kb.loader import load_registry, validate
from policies_kb.paths import DATA_DIR, SOURCES_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def kb():
    """The real knowledge base, loaded and validated once."""
    clear_cache()
    return load_kb()


@pytest.fixture
def tmp_data(tmp_path: Path) -> Path:
    """A writable copy of policies_kb/data."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    yield target
    clear_cache()


@pytest.fixture
def tmp_sources(tmp_path: Path) -> Path:
    """A writable copy of policies_kb/sources (the originals are read-only)."""
    target = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, target)
    for path in target.iterdir():
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


class MeasureFile:
    """Edit one measure file as text, the way a person would, one entry at a time."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def lines(self) -> List[str]:
        """The file's lines, with their line ends."""
        return self.path.read_text(encoding="utf-8").splitlines(keepends=True)

    def entry_line(self, measure_id: str) -> int:
        """The 1-based line of `- id: <measure_id>`."""
        for number, line in enumerate(self.lines, start=1):
            if line.rstrip("\n") == f"- id: {measure_id}":
                return number
        raise AssertionError(f"{measure_id} not found in {self.path}")

    def _span(self, measure_id: str) -> range:
        """0-based indexes of the entry's lines (up to the next top-level list item)."""
        lines = self.lines
        start = self.entry_line(measure_id) - 1
        end = start + 1
        while end < len(lines) and not lines[end].startswith("- "):
            end += 1
        return range(start, end)

    def entry(self, measure_id: str) -> str:
        """The entry's text."""
        lines = self.lines
        return "".join(lines[i] for i in self._span(measure_id))

    def replace_in_entry(self, measure_id: str, old: str, new: str, key: Optional[str] = None) -> int:
        """Replace `old` once inside the entry (inside the `key:` line when given); return that line."""
        lines = self.lines
        for index in self._span(measure_id):
            if key is not None and not re.match(rf"^\s*(- )?{re.escape(key)}:", lines[index]):
                continue
            if old in lines[index]:
                lines[index] = lines[index].replace(old, new, 1)
                self.path.write_text("".join(lines), encoding="utf-8")
                return index + 1
        raise AssertionError(f"{old!r} not found in {measure_id} ({key or 'any line'})")

    def delete_entry(self, measure_id: str) -> None:
        """Remove the whole entry."""
        lines = self.lines
        span = self._span(measure_id)
        self.path.write_text("".join(lines[: span.start] + lines[span.stop:]), encoding="utf-8")


@pytest.fixture
def measure_file(tmp_data: Path):
    """Open a measure file of the tmp copy by document id."""
    return lambda document_id: MeasureFile(tmp_data / "measures" / f"{document_id}.yml")


def problems_of(data_dir: Path, sources_dir: Path = SOURCES_DIR) -> List[str]:
    """Every validation problem of a KB folder (loading errors propagate)."""
    registry, locations = load_registry(data_dir)
    return validate(registry, locations, sources_dir, data_dir)


@pytest.fixture
def problems():
    """`problems(data_dir, sources_dir=…)` → the validation problems of a folder."""
    return problems_of


def run_cli(args: Sequence[str], env_extra: Optional[dict] = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run `python -m policies_kb …` from the project root; output decoded as UTF-8."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHONIOENCODING", "LC_", "LANG"))}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "policies_kb", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, timeout=timeout, check=False)


@pytest.fixture
def cli():
    """`cli(*args)` → CompletedProcess with .out/.err decoded as UTF-8."""

    def call(*args: str, env: Optional[dict] = None) -> subprocess.CompletedProcess:
        result = run_cli(args, env)
        result.out = result.stdout.decode("utf-8")
        result.err = result.stderr.decode("utf-8")
        return result

    return call
