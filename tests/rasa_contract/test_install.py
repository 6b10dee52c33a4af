"""rasa_runtime.install: every patch installed exactly once, only on the locked Rasa, and from nowhere else."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator

import pytest
import rasa

from rasa_runtime import install
from rasa_runtime.patching import ClassPatch
from settings import PROJECT_ROOT as ROOT



@pytest.fixture
def rasas_own() -> Iterator[Dict[str, Any]]:
    """Rasa's own attributes before the test; all of them back afterwards."""
    patches = install.patches()
    assert not any(patch.installed for patch in patches), "an earlier test left a patch installed"
    originals = {patch.target: patch.owner.__dict__[patch.name] for patch in patches}
    try:
        yield originals
    finally:
        install.uninstall_all()
        for patch in patches:
            assert patch.owner.__dict__[patch.name] is originals[patch.target], patch.target


def test_install_all_installs_every_patch_exactly_once(rasas_own: Dict[str, Any]) -> None:
    """One call puts every replacement in place over Rasa's own attribute; a second call changes nothing."""
    patches = install.patches()
    assert len(patches) == len(install.PATCH_MODULES) == len({patch.target for patch in patches})
    assert install.install_all() == [patch.target for patch in patches]
    for patch in patches:
        assert patch.installed and patch.owner.__dict__[patch.name] is patch.replacement, patch.target
        assert patch.original is rasas_own[patch.target], patch.target
    assert install.all_installed()
    assert install.install_all() == []
    for patch in patches:  # not wrapped twice
        assert patch.original is rasas_own[patch.target] and patch.owner.__dict__[patch.name] is patch.replacement


def test_install_all_refuses_another_rasa_version(rasas_own: Dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """On a Rasa version the patches were not checked against, nothing is installed and the error says why."""
    monkeypatch.setattr(rasa, "__version__", "3.6.20")
    with pytest.raises(install.RasaVersionError, match=r"Rasa 3\.6\.21 internals, but Rasa 3\.6\.20 is installed"):
        install.install_all()
    assert not any(patch.installed for patch in install.patches())
    for patch in install.patches():
        assert patch.owner.__dict__[patch.name] is rasas_own[patch.target]


def test_supported_version_is_the_locked_and_installed_one() -> None:
    """SUPPORTED_RASA_VERSION is the rasa pin of requirements/requirements.lock, and the Rasa installed here."""
    lock = (ROOT / "requirements" / "requirements.lock").read_text(encoding="utf-8")
    pinned = re.search(r"^rasa==(\S+)$", lock, re.MULTILINE)
    assert pinned and pinned.group(1) == install.SUPPORTED_RASA_VERSION == rasa.__version__
    install.check_rasa_version()


def test_every_class_patch_of_rasa_runtime_is_installed_by_install_all() -> None:
    """Each module of rasa_runtime that builds a ClassPatch is in PATCH_MODULES, with exactly one PATCH."""
    builders = {f"rasa_runtime.{path.stem}" for path in (ROOT / "rasa_runtime").glob("*.py")
                if "ClassPatch(" in path.read_text(encoding="utf-8") and path.stem != "patching"}
    assert builders == set(install.PATCH_MODULES)
    assert all(isinstance(patch, ClassPatch) for patch in install.patches())


def test_rasa_is_changed_only_from_rasa_runtime() -> None:
    """No production module outside rasa_runtime/ builds a patch or assigns attributes of Rasa's classes."""
    assignment = re.compile(r"^\s*(RemoteAction|EndpointConfig|RasaModel|DaskGraphRunner|Event|SQLTrackerStore|"
                            r"RedisLockStore|InputChannel)\.\w+\s*=", re.MULTILINE)
    tops = [top for top in ROOT.iterdir() if top.is_dir() and not top.name.startswith(".")
            and top.name not in ("rasa_runtime", "tests", "models", "results", "reports", "var")]
    modules = [path for top in tops for path in top.rglob("*.py") if "node_modules" not in path.parts]
    assert len(modules) > 30
    for path in modules + list(ROOT.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "ClassPatch" not in text and not assignment.search(text), path
