"""The project is an installed package: one lock resolution, a runtime-only image, no sys.path tricks."""

from __future__ import annotations

import re
import tomli as tomllib  # Python 3.10: tomllib arrives in 3.11
from pathlib import Path

from settings import PROJECT_ROOT as ROOT

DEV_ONLY = {"pytest", "hypothesis", "playwright", "ruff"}


def pins(path: Path) -> dict[str, str]:
    """name → version of a uv-compiled requirements file."""
    return {name.lower(): version for name, version in
            re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(encoding="utf-8"), re.M)}


def test_runtime_lock_is_the_runtime_part_of_the_one_resolution() -> None:
    """requirements/runtime.lock pins a subset of requirements/requirements.lock, at the same versions, without dev tools."""
    full, runtime = pins(ROOT / "requirements" / "requirements.lock"), pins(ROOT / "requirements" / "runtime.lock")
    assert DEV_ONLY <= set(full)
    assert not DEV_ONLY & set(runtime)
    assert {name: version for name, version in runtime.items() if full.get(name) != version} == {}


def test_production_image_installs_the_runtime_lock_only() -> None:
    """deploy/Dockerfile installs runtime.lock, never the full lock or the [dev] extra."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "-r requirements/runtime.lock" in dockerfile
    assert "-r requirements/requirements.lock" not in dockerfile and "[dev]" not in dockerfile


def test_pyproject_lists_every_package() -> None:
    """Every top-level package of the project is in pyproject's package list."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = {pattern.rstrip("*") for pattern in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages == include
    assert config["tool"]["setuptools"]["py-modules"] == ["settings"]


def test_no_sys_path_insert_outside_tests() -> None:
    """The project is installed (editable): no module outside tests/ edits sys.path."""
    skipped = {"tests", ".venv", "node_modules", ".git"}
    offenders = [str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py")
                 if not skipped & set(path.relative_to(ROOT).parts)
                 and "sys.path.insert" in path.read_text(encoding="utf-8", errors="replace")]
    assert offenders == []
