"""The web server of the assistant: chat widget page, staff desk and its JSON API.

``create_app`` is imported lazily so that ``python -m webapp.report`` does not load Sanic.
"""

from typing import Any


def create_app(kb: Any = None, settings: Any = None) -> Any:
    """The Sanic app (see webapp.server.create_app)."""
    from .server import create_app as _create_app

    return _create_app(kb=kb, settings=settings)


__all__ = ["create_app"]
