"""Command line for the knowledge base: ``python -m policies_kb <command>``.

Commands: search, show, list (measures.py), agencies, platforms (registries.py), validate, build,
nlu-resources (maintenance.py). Human output is Chinese and aligned for a terminal (CJK characters
count two columns, layout.py); ``--json`` prints full records as UTF-8 JSON. Exit codes: 0 success,
1 the KB files are broken (every problem is printed with file:line), 2 bad arguments or an unknown id.
"""

from .common import EXIT_KB_ERROR, EXIT_OK, EXIT_USAGE, KBFormatError, UsageError
from .layout import char_width, display_width, field, pad, table, terminal_width, truncate, wrap
from .main import main
from .parser import build_parser

__all__ = [
    "EXIT_KB_ERROR", "EXIT_OK", "EXIT_USAGE", "KBFormatError", "UsageError", "build_parser", "char_width",
    "display_width", "field", "main", "pad", "table", "terminal_width", "truncate", "wrap",
]
