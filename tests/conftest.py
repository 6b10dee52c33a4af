"""Shared fixtures: the project on sys.path, the real domain, and a running assistant (`stack`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies_kb import load_kb  # noqa: E402
from devstack.local import Stack, start_stack  # noqa: E402


@pytest.fixture(scope="module")
def domain() -> Dict[str, Any]:
    """The real domain.yml."""
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kb():
    """The real knowledge base."""
    return load_kb()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole assistant on free ports, with its own tracker store and test WeChat credentials."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield running
    finally:
        running.stop()
