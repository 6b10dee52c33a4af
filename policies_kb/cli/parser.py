"""The argument parser of every command, with Chinese help and errors (exit code 2)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from typing import Any, Tuple

from ..paths import DATA_DIR, SOURCES_DIR
from .common import EXIT_USAGE
from .maintenance import cmd_build, cmd_nlu_resources, cmd_validate
from .measures import cmd_list, cmd_search, cmd_show
from .registries import cmd_agencies, cmd_platforms

logger = logging.getLogger(__name__)

ERROR_MESSAGES: Tuple[Tuple[str, str], ...] = (
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"argument (\S+): invalid choice: '(.*?)' \(choose from (.*)\)", r"参数 \1 的取值“\2”无效，可选：\3"),
    (r"argument (\S+): invalid int value: '(.*)'", r"参数 \1 的取值“\2”不是整数"),
    (r"argument (\S+): expected one argument", r"参数 \1 需要一个取值"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
)


METAVAR_NAMES = {"COMMAND": "命令", "QUERY": "检索词", "ID": "措施编号", "DIR": "目录", "N": "条数",
                 "R": "地区", "T": "主题", "A": "机构", "P": "平台", "command": "命令"}


class ChineseHelpFormatter(argparse.HelpFormatter):
    """Help text with a Chinese usage prefix."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        """Prefix the usage line with 用法： (argparse passes "" when it only wants the program name)."""
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An argument parser whose help and errors are Chinese; errors exit with code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        parents = kwargs.pop("parents", [])
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示帮助并退出")
        for parent in parents:  # as argparse does, but after the group titles are Chinese
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print a Chinese usage error and exit 2."""
        for pattern, replacement in ERROR_MESSAGES:
            match = re.fullmatch(pattern, message)
            if match:
                names = match.group(1)
                if not pattern.startswith("unrecognized"):  # argument names, not what the user typed
                    names = re.sub(r"[A-Za-z]+", lambda m: METAVAR_NAMES.get(m.group(0), m.group(0)), names)
                message = match.expand(replacement.replace("\\1", names.replace("\\", "\\\\")))
                break
        else:
            message = f"参数错误（{message}）"
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"错误：{message}。使用 {self.prog} -h 查看帮助。\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = ChineseArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help=f"知识库数据目录（默认 {DATA_DIR}）")
    common.add_argument("--sources-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help=f"来源文件目录（默认 {SOURCES_DIR}）")
    as_json = ChineseArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="输出完整记录（UTF-8 JSON）")

    parser = ChineseArgumentParser(
        prog="python -m policies_kb", parents=[common],
        description="中小企业知识产权政策知识库：检索、查看、列出、校验与构建。",
        epilog="退出码：0 成功；1 知识库文件有问题；2 参数错误或编号不存在。",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="命令", required=True)

    search = sub.add_parser("search", parents=[common, as_json], help="按问题或关键词检索措施")
    search.add_argument("query", nargs="+", metavar="QUERY", help="检索词：问题或关键词，如 质押贷款贴息")
    search.add_argument("--region", metavar="R", help="地区：上海、大同或全国（也可写 浦东、山西 等）")
    search.add_argument("--topic", metavar="T", help="主题编号（如 financing）或主题名称")
    search.add_argument("--agency", metavar="A", help="责任单位：机构名称、简称或编号（如 市知识产权局）")
    search.add_argument("--platform", metavar="P", help="平台名称、简称或编号（如 专利导航平台）")
    search.add_argument("--limit", metavar="N", type=int, default=5, help="最多显示几条（默认 5）")
    search.set_defaults(handler=cmd_search)

    show = sub.add_parser("show", parents=[common, as_json], help="查看一条措施的全部内容")
    show.add_argument("id", metavar="ID", help="措施编号，如 shgov-25")
    show.set_defaults(handler=cmd_show)

    listing = sub.add_parser("list", parents=[common, as_json], help="列出措施")
    listing.add_argument("--region", metavar="R", help="地区：上海、大同或全国")
    listing.add_argument("--topic", metavar="T", help="主题编号（如 financing）或主题名称")
    listing.set_defaults(handler=cmd_list)

    agencies = sub.add_parser("agencies", parents=[common, as_json], help="列出机构及提及它们的措施数")
    agencies.set_defaults(handler=cmd_agencies)
    platforms = sub.add_parser("platforms", parents=[common, as_json], help="列出平台及提及它们的措施数")
    platforms.set_defaults(handler=cmd_platforms)

    validate = sub.add_parser("validate", parents=[common], help="校验知识库（原文逐字、校验和、登记表）")
    validate.set_defaults(handler=cmd_validate)
    build = sub.add_parser("build", parents=[common], help="由来源文件重建措施文件，再校验")
    build.set_defaults(handler=cmd_build)
    resources = sub.add_parser("nlu-resources", parents=[common], help="由知识库生成 jieba 词典和 NLU 查找表")
    resources.set_defaults(handler=cmd_nlu_resources)
    return parser
