"""What the staff API answers with: UTF-8 JSON, and client-facing errors (a status and a Chinese message)."""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A client-facing error: HTTP status and a Chinese message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def dumps(data: Any, **_: Any) -> str:
    """UTF-8 JSON with Chinese kept readable."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
