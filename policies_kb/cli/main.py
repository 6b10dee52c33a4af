"""Running one command: UTF-8 output, quiet jieba, and every KB or usage error turned into its exit code."""

from __future__ import annotations

import logging
import sys
from typing import Optional, Sequence

from ..loader import KBValidationError
from ..yamlio import KBFileError
from .common import EXIT_KB_ERROR, EXIT_OK, EXIT_USAGE, KBFormatError, UsageError
from .parser import build_parser

logger = logging.getLogger(__name__)


def utf8_streams() -> None:
    """Write UTF-8 whatever the locale says."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure:
            try:
                reconfigure(encoding="utf-8")
            except (ValueError, OSError):  # pragma: no cover - a stream that cannot be reconfigured
                pass


def quiet_jieba() -> None:
    """Keep jieba's start-up chatter ("Building prefix dict …") off the terminal."""
    logging.getLogger("jieba").setLevel(logging.WARNING)
    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:  # pragma: no cover - jieba is a dependency of search
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return the exit code."""
    utf8_streams()
    quiet_jieba()
    parser = build_parser()
    args = parser.parse_args(argv)
    # --data-dir/--sources-dir may come before or after the command; absent means the package's own.
    args.data_dir = getattr(args, "data_dir", None)
    args.sources_dir = getattr(args, "sources_dir", None)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    except KBValidationError as exc:
        print(f"知识库校验未通过，共 {len(exc.problems)} 个问题：")
        for problem in exc.problems:
            print(f"  {problem}")
        return EXIT_KB_ERROR
    except KBFileError as exc:
        print(f"知识库文件有误：{exc}")
        return EXIT_KB_ERROR
    except KBFormatError as exc:
        print(f"{exc}。", file=sys.stderr)
        return EXIT_KB_ERROR
    except BrokenPipeError:  # pragma: no cover - e.g. piped into `head`
        return EXIT_OK
