"""tests/import_guard.py: --forbid-import fails a session that imports the module, and only such a session."""

from __future__ import annotations

import pytest

from settings import PROJECT_ROOT

HEAVY = "fake_heavy_module_for_the_guard"


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A scratch project with a module standing in for TensorFlow; the guard importable as tests.import_guard."""
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    pytester.makepyfile(**{HEAVY: "LOADED = True\n"})
    pytester.syspathinsert()
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner pytest session with the guard, forbidding the stand-in module."""
    return pytester.runpytest("-p", "tests.import_guard", f"--forbid-import={HEAVY}", *args)


def test_a_session_that_never_imports_the_module_passes(inner: pytest.Pytester) -> None:
    """Nothing imported, nothing reported."""
    inner.makepyfile(test_light="def test_one():\n    assert 1\n\ndef test_two():\n    assert 2\n")
    result = run(inner)
    result.assert_outcomes(passed=2)


def test_a_test_that_imports_the_module_errors_with_its_name(inner: pytest.Pytester) -> None:
    """The test during which the import happens errors; the tests after it pass; the session fails."""
    inner.makepyfile(test_heavy=f"def test_a():\n    import {HEAVY}\n\ndef test_b():\n    assert 1\n")
    result = run(inner)
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*this test imported {HEAVY}*", "*test_heavy.py:2*"])


def test_an_import_at_collection_fails_the_first_test(inner: pytest.Pytester) -> None:
    """A test module importing the module at its top: the first test errors instead of running; the line is named."""
    inner.makepyfile(test_top=f"import {HEAVY}\n\ndef test_a():\n    assert {HEAVY}.LOADED\n\ndef test_b():\n    assert 1\n")
    result = run(inner)
    result.assert_outcomes(passed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*{HEAVY} was imported while the tests were collected*", "*test_top.py:1*"])


def test_without_the_option_nothing_is_watched(inner: pytest.Pytester) -> None:
    """Other stages (make test-rasa, model tests) import TensorFlow freely."""
    inner.makepyfile(test_heavy=f"def test_a():\n    import {HEAVY}\n")
    result = inner.runpytest("-p", "tests.import_guard")
    result.assert_outcomes(passed=1)
