"""policies_kb.yamlio reads the KB with libyaml's parser and falls back to PyYAML's for errors: same data, lines, messages.

(The other KB tests are in tests/kb/.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from policies_kb import yamlio
from policies_kb.paths import DATA_DIR

KB_FILES = sorted(DATA_DIR.rglob("*.yml"))


def with_lines(node: Any) -> Any:
    """The loaded data with each mapping's line number beside it, for comparing two loads exactly."""
    if isinstance(node, dict):
        return ("mapping", yamlio.line_of(node), {key: with_lines(value) for key, value in node.items()})
    if isinstance(node, list):
        return [with_lines(item) for item in node]
    return (type(node).__name__, node)


def pure_python(path: Path) -> Any:
    """The file read by PyYAML's own parser, as before libyaml was used."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yamlio._LineLoader)  # noqa: S506


def test_libyaml_is_used_when_pyyaml_has_it() -> None:
    """The fast loader is libyaml's when available (it is, with the locked PyYAML wheels)."""
    assert yaml.__with_libyaml__
    assert issubclass(yamlio._FastLineLoader, yaml.CSafeLoader)


@pytest.mark.parametrize("path", KB_FILES, ids=lambda path: path.name)
def test_every_kb_file_reads_the_same_as_with_pyyaml(path: Path) -> None:
    """Every value, type and mapping line is what PyYAML's own parser gives."""
    assert with_lines(yamlio.read_yaml(path)) == with_lines(pure_python(path))


def test_a_file_with_lines_and_nesting_keeps_its_lines(tmp_path: Path) -> None:
    """Lines of nested mappings inside sequences, counted from 1."""
    path = tmp_path / "x.yml"
    path.write_text("a: 1\nitems:\n  - id: x\n    n: 2\n  - id: y\n", encoding="utf-8")
    data = yamlio.read_yaml(path)
    assert [yamlio.line_of(data), *[yamlio.line_of(item) for item in data["items"]]] == [1, 3, 5]


@pytest.mark.parametrize("text", ["a: [1, 2\nb: 3\n", "a: 1\n  b: 2\n", "a: 1\na: 2\n", "a: *nowhere\n"],
                         ids=["unclosed", "indent", "duplicate-key", "unknown-alias"])
def test_broken_yaml_is_reported_exactly_as_by_pyyaml(tmp_path: Path, text: str) -> None:
    """Syntax errors and duplicate keys: PyYAML's own message and line, through the fallback."""
    path = tmp_path / "broken.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(yaml.MarkedYAMLError) as pure:
        pure_python(path)
    mark = pure.value.problem_mark or pure.value.context_mark
    with pytest.raises(yamlio.KBFileError) as read:
        yamlio.read_yaml(path)
    assert (read.value.line, read.value.message) == (mark.line + 1, f"YAML syntax error: {pure.value.problem or pure.value}")
