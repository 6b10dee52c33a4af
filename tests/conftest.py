"""Shared fixtures: the real domain, the knowledge base and a running assistant (`stack`, from devstack)."""

from __future__ import annotations

from typing import Any, Dict, Iterator

import pytest
import yaml

from devstack.local import Stack, start_stack
from policies_kb import load_kb
from settings import PROJECT_ROOT as ROOT

# pytester runs inner sessions (tests/test_import_guard.py); import_guard adds --forbid-import (make test-fast)
pytest_plugins = ["pytester", "tests.import_guard"]


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
