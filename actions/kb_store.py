"""The knowledge base the actions use, loaded once and lazily."""

from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from policies_kb import KBFileError, KBValidationError, KnowledgeBase, load_kb
from settings import get_settings

logger = logging.getLogger(__name__)

KBProvider = Callable[[], KnowledgeBase]
_lock = threading.Lock()
_kb: Optional[KnowledgeBase] = None


def default_kb() -> KnowledgeBase:
    """Load and validate the KB on first use (KB_DIR overrides the packaged data)."""
    global _kb
    if _kb is None:
        with _lock:
            if _kb is None:
                kb = load_kb(get_settings().kb_dir)
                kb.warm_up()
                _kb = kb
    return _kb


def check_knowledge_base_at_startup() -> None:
    """Load the KB now; exit with the problem (file:line) if it is broken."""
    try:
        default_kb()
    except (KBFileError, KBValidationError) as exc:
        logger.critical("knowledge base is broken, the action server will not start:\n%s", exc)
        raise SystemExit(f"知识库文件有误，动作服务器不启动：\n{exc}") from exc
