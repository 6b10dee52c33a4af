"""The staff desk's JSON API: pure payload builders over the KB, plus the Sanic blueprint.

Every payload builder takes the KnowledgeBase and already-parsed arguments and returns plain
JSON-ready data, or raises ApiError (a status and a Chinese message). The blueprint only parses the
request, checks the staff token and runs the builders; it never lets bad input become a 500.
"""

from .blueprint import make_blueprint
from .measures import figures_payload, measure_payload, related_payload
from .registries import agencies_payload, agency_payload, beneficiaries_payload, platform_payload, platforms_payload, topics_payload
from .reply import build_reply, reply_payload
from .responses import ApiError, dumps
from .search import search_payload

__all__ = [
    "ApiError", "agencies_payload", "agency_payload", "beneficiaries_payload", "build_reply", "dumps",
    "figures_payload", "make_blueprint", "measure_payload", "platform_payload", "platforms_payload",
    "related_payload", "reply_payload", "search_payload", "topics_payload",
]
