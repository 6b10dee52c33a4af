"""Shared fixtures: the real domain, the knowledge base and a running assistant (`stack`, from devstack)."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator

import pytest
import yaml

from devstack.local import Stack, start_stack
from policies_kb import load_kb
from settings import PROJECT_ROOT as ROOT

# pytester runs inner sessions (tests/test_import_guard.py); import_guard adds --forbid-import (make test-fast)
pytest_plugins = ["pytester", "tests.import_guard"]


TERMINAL_VARIABLES = ("COLUMNS", "LINES")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook; unknown when xdist is off (-p no:xdist)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (make test-fast): hand each worker the controller's COLUMNS and LINES (set or not)."""
    node.workerinput["terminal_environment"] = {name: os.environ.get(name) for name in TERMINAL_VARIABLES}


def pytest_configure(config: pytest.Config) -> None:
    """In an xdist worker, restore the controller's COLUMNS/LINES: the workers get 80×24, and CLIs size tables by them."""
    for name, value in getattr(config, "workerinput", {}).get("terminal_environment", {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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
