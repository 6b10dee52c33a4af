"""Read and write the KB's YAML files, keeping line numbers for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml


class KBFileError(ValueError):
    """A KB file that cannot be read; the message names the file and the line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(f"{_display(self.path)}:{line}: {message}")


class LineDict(dict):
    """A mapping that remembers the line it started on in its YAML file."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings carry their line numbers."""


class _FastLineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same loader on libyaml's parser (when PyYAML has it): same data and lines, several times faster."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    """Build a LineDict from a mapping node."""
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FastLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _display(path: Path) -> str:
    """Show a path relative to the project when possible."""
    root = Path(__file__).resolve().parent.parent
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> Any:
    """Parse a UTF-8 YAML file; a syntax error names the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise KBFileError(path, 0, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise KBFileError(path, 0, f"not valid UTF-8 ({exc.reason})") from exc
    try:
        return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        pass  # parsed again below by PyYAML's own parser, whose messages and marks the KB's errors report
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise KBFileError(path, line, f"YAML syntax error: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise KBFileError(path, 0, f"YAML error: {exc}") from exc


def line_of(node: Any) -> int:
    """The line a loaded mapping started on (0 when unknown)."""
    return getattr(node, "line", 0)


class _BlockDumper(yaml.SafeDumper):
    """A dumper that writes multi-line strings as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Use the literal block style for multi-line text without trailing spaces."""
    if "\n" in data and not any(line != line.rstrip() for line in data.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_BlockDumper.add_representer(str, _represent_str)
_BlockDumper.add_representer(LineDict, _BlockDumper.represent_dict)


def dump_yaml(data: Dict[str, Any], header: str = "") -> str:
    """Serialise data as readable, deterministic UTF-8 YAML."""
    body = yaml.dump(
        data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=1000, indent=2
    )
    return (header + body) if header else body


def write_yaml(path: Path, data: Dict[str, Any], header: str = "") -> bool:
    """Write YAML only when the content changes; return whether it changed."""
    path = Path(path)
    text = dump_yaml(data, header)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
