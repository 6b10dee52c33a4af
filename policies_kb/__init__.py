"""The knowledge base of four IP policy documents for SMEs: load, validate, search, cite.

Pure Python (no Rasa import). Typical use::

    from policies_kb import load_kb
    kb = load_kb()
    for hit in kb.search("专利质押贷款 贴息", region="上海")[:3]:
        print(kb.citation(hit.measure), hit.measure.title)
"""

from .kb import KnowledgeBase, article_label, clear_cache, detect_region, load_kb, normalise_region
from .loader import KBValidationError
from .model import Agency, Document, Measure, Platform
from .search import SearchHit
from .yamlio import KBFileError

__all__ = [
    "Agency", "Document", "KBFileError", "KBValidationError", "KnowledgeBase", "Measure", "Platform",
    "SearchHit", "article_label", "clear_cache", "detect_region", "load_kb", "normalise_region",
]
