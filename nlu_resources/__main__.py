"""`python -m nlu_resources [--data-dir DIR]`: regenerate the jieba dictionary and the NLU lookup file from the KB."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from policies_kb import KBFileError, KBValidationError, load_kb

from .exports import update_message

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Load and check the KB, write the resources, print what changed; 1 when the KB is broken."""
    parser = argparse.ArgumentParser(prog="python -m nlu_resources",
                                     description="由知识库生成 jieba 词典和 NLU 查找表")
    parser.add_argument("--data-dir", help="知识库数据目录（默认 policies_kb/data）")
    args = parser.parse_args(argv)
    try:
        kb = load_kb(data_dir=args.data_dir, check=True)
    except (KBValidationError, KBFileError) as exc:
        print(f"知识库有误，未生成 NLU 资源：{exc}", file=sys.stderr)
        return 1
    print(update_message(kb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
