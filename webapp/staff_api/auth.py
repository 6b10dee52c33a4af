"""The staff token: which one a request presents, and whether it is the configured one."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping

from .responses import ApiError

logger = logging.getLogger(__name__)


def presented_token(headers: Mapping[str, str]) -> str | None:
    """The token a request carries: Authorization: Bearer … or X-Staff-Token."""
    auth = headers.get("authorization") or ""
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = headers.get("x-staff-token")
    return token.strip() if token and token.strip() else None


def check_token(expected: str, presented: str | None) -> None:
    """Raise 503 when no token is configured, 401 when the presented one is missing or wrong."""
    if not expected:
        raise ApiError(503, "STAFF_TOKEN 未配置")
    if not presented or not hmac.compare_digest(_header_bytes(presented), expected.encode("utf-8")):
        raise ApiError(401, "未授权：请提供正确的工作人员口令")


def _header_bytes(value: str) -> bytes:
    """The raw bytes of a header value (servers decode header bytes as Latin-1)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")
