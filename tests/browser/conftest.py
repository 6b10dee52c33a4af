"""Browser launching for the widget tests (Debian's chromium driven by Playwright for Python)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Without chromium (and outside CI) skip at collection, before session fixtures such as `stack` start."""
    if Path(CHROMIUM).exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found (apt-get install -y chromium fonts-wqy-microhei)")
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().parent == here and item.get_closest_marker("browser"):
            item.add_marker(skip)


def _require_chromium() -> None:
    """Skip without chromium on a developer machine; in CI (env CI set) a missing browser is an error."""
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} not found (install Debian's chromium: apt-get install -y chromium fonts-wqy-microhei)"
    if os.environ.get("CI"):
        pytest.fail(reason + " — required in CI", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_context(playwright_driver) -> Iterator[object]:
    """A fresh persistent context (new empty user-data dir, so empty localStorage) per test."""
    user_data = tempfile.mkdtemp(prefix="ipw-chromium-")
    context = playwright_driver.chromium.launch_persistent_context(
        user_data,
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport={"width": 1280, "height": 860},
        locale="zh-CN",
    )
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(user_data, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """tests/artifacts/ for screenshots; it ignores itself in git."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return ARTIFACTS
