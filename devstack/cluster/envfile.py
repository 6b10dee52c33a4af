"""The `.env` file of `make run-prod`: read it under the process environment, refuse copied placeholder secrets."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Dict, List, Mapping

from settings import PROJECT_ROOT

logger = logging.getLogger(__name__)


def read_env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, blank lines and `export ` prefixes allowed)."""
    values: Dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def placeholder_secrets(env: Mapping[str, str]) -> List[str]:
    """Variables still holding a `change-me…` placeholder copied from .env.example."""
    return sorted(name for name, value in env.items()
                  if re.search(r"PASSWORD|SECRET|TOKEN|AES_KEY", name) and (value or "").startswith("change-me"))


def load_env(env: Mapping[str, str]) -> Dict[str, str]:
    """The given environment plus ENV_FILE or the project's .env (variables already set win)."""
    merged = dict(env)
    path = Path(merged.get("ENV_FILE") or PROJECT_ROOT / ".env")
    if path.is_file():
        for key, value in read_env_file(path).items():
            merged.setdefault(key, value)
        print(f"读取环境变量文件 {path}")
    return merged
