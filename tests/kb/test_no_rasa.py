"""policies_kb is the pure domain: it imports nothing of Rasa and writes no Rasa file (nlu_resources does)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from .conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "policies_kb"
MODULES = sorted(PACKAGE.rglob("*.py"))
# The Rasa side of the project, and Rasa itself: none of it is imported by the pure library.
RASA_SIDE = ("rasa", "rasa_sdk", "actions", "connectors", "rasa_stores", "rasa_runtime", "nlu_components", "webapp")
# `python -m policies_kb nlu-resources` (make nlu-resources) hands over to the Rasa-side build step.
ALLOWED = {("cli/maintenance.py", "nlu_resources")}
# Keys of Rasa's training data and domain, and the folders Rasa reads them from.
RASA_YAML = re.compile(
    r"""["'](nlu|lookup|synonym|regex|examples|intents|stories|rules|responses|slots|version)["']\s*:"""
    r"""|["'](nlu|nlu_dictionary)["']|data/nlu|nlu_dictionary/|domain\.yml|config\.yml|kb_lookups"""
)


def imported_modules(path) -> set[str]:
    """The top-level names of every module a file imports (at any depth, absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_has_modules():
    assert len(MODULES) > 10 and PACKAGE / "answers.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_rasa_or_the_rasa_side(path):
    relative = path.relative_to(PACKAGE).as_posix()
    names = {name for name in imported_modules(path) if (relative, name) not in ALLOWED}
    assert not names.intersection(RASA_SIDE + ("nlu_resources",)), relative


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_writes_rasa_yaml(path):
    hits = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if RASA_YAML.search(line)]
    assert not hits, f"{path.relative_to(PACKAGE)} names a Rasa file format: {hits}"


def test_importing_every_module_loads_no_rasa():
    """Every module of the package imports (in a fresh interpreter) without rasa or rasa_sdk being loaded."""
    names = ["policies_kb." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
             for p in MODULES if p.name != "__main__.py"]
    code = ("import importlib, sys\n"
            f"for name in {names!r}: importlib.import_module(name.removesuffix('.__init__'))\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk', 'tensorflow'))\n"
            "print(loaded[:5]); sys.exit(1 if loaded else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
