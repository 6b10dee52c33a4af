"""The web server: chat widget page, staff desk, JSON API and health check (Sanic 21.12).

Routes
- ``/``                    webapp/static/index.html (the chat widget page, built by the widget part)
- ``/widget/*``            webapp/static/widget/
- ``/vendor/socket.io/*``  webapp/node_modules/socket.io-client/dist/ (when npm install has run)
- ``/staff/``              the staff desk (webapp/static/staff/); its data calls need the staff token
- ``/api/...``             the JSON API (webapp/staff_api/), token required
- ``/healthz``             {"status": "ok"}
"""

from __future__ import annotations

import itertools
import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sanic import Sanic, response
from sanic.exceptions import MethodNotSupported, NotFound, SanicException
from sanic.handlers import ErrorHandler

from . import staff_api

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
STATIC_DIR = PACKAGE_DIR / "static"
STAFF_DIR = STATIC_DIR / "staff"
WIDGET_DIR = STATIC_DIR / "widget"
SOCKETIO_DIR = PACKAGE_DIR / "node_modules" / "socket.io-client" / "dist"


logger = logging.getLogger(__name__)
_APP_NUMBERS = itertools.count(1)

STAFF_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
             "form-action 'self'; frame-ancestors 'none'")
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
mimetypes.add_type("application/javascript", ".js")
mimetypes.add_type("application/javascript", ".mjs")
mimetypes.add_type("application/json", ".map")
mimetypes.add_type("text/css", ".css")


def _json_error(status: int, message: str, headers: dict | None = None) -> Any:
    """A JSON error response."""
    return response.json({"error": message, "status": status}, status=status, headers=headers,
                         dumps=staff_api.dumps, content_type="application/json; charset=utf-8")


class JsonErrorHandler(ErrorHandler):
    """Errors as JSON with Chinese messages; unexpected exceptions are logged and never leak details."""

    def default(self, request: Any, exception: Exception) -> Any:
        if isinstance(exception, staff_api.ApiError):
            return _json_error(exception.status, exception.message)
        if isinstance(exception, NotFound):
            return _json_error(404, "未找到")
        if isinstance(exception, MethodNotSupported):
            return _json_error(405, "不支持的请求方法")
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            if status >= 500:
                self.log(request, exception)
                return _json_error(status, "服务器内部错误")
            return _json_error(status, "请求无效")
        self.log(request, exception)
        return _json_error(500, "服务器内部错误")


def _safe_file(root: Path, relative: str) -> Path | None:
    """The file under root a URL path names, or None (no escaping the root, no hidden files)."""
    try:
        root = root.resolve()
        parts = [p for p in unquote(relative or "").split("/") if p]
        if any(p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
            return None
        path = root.joinpath(*parts).resolve()
    except (OSError, ValueError):
        return None
    if path != root and root not in path.parents:
        return None
    if path.is_dir():
        path = path / "index.html"
    return path if path.is_file() else None


async def _send_file(path: Path | None, headers: dict | None = None) -> Any:
    """The file with a UTF-8 content type for text, or a 404."""
    if path is None:
        return _json_error(404, "未找到")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mime.startswith(TEXT_TYPES):
        mime += "; charset=utf-8"
    return await response.file(path, mime_type=mime, headers={"Cache-Control": "no-cache", **(headers or {})})


def create_app(kb: Any = None, settings: Any = None) -> Sanic:
    """The Sanic app of the web server (a new, uniquely named app on each call)."""
    if settings is None:
        from settings import get_settings

        settings = get_settings()
    if kb is None:
        from policies_kb import load_kb

        kb = load_kb(settings.kb_dir)

    number = next(_APP_NUMBERS)
    app = Sanic("staff_desk" if number == 1 else f"staff_desk_{number}", error_handler=JsonErrorHandler(),
                strict_slashes=True, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.kb = kb
    app.ctx.settings = settings
    if not settings.staff_token:
        logger.warning("STAFF_TOKEN is not set: the staff API refuses every request (503)")

    app.blueprint(staff_api.make_blueprint())

    @app.listener("after_server_start")
    async def warm_up(app_: Sanic, _loop: Any) -> None:
        app_.ctx.kb.warm_up()

    @app.route("/healthz", methods=["GET", "HEAD"])
    async def healthz(request: Any) -> Any:
        return response.json({"status": "ok"})

    @app.route("/", methods=["GET", "HEAD"])
    async def index(request: Any) -> Any:
        path = STATIC_DIR / "index.html"
        return await _send_file(path if path.is_file() else None)

    @app.route("/embed-example.html", methods=["GET", "HEAD"])
    async def embed_example(request: Any) -> Any:
        return await _send_file(_safe_file(STATIC_DIR, "embed-example.html"))

    @app.route("/widget/<rest:path>", methods=["GET", "HEAD"])
    async def widget(request: Any, rest: str) -> Any:
        return await _send_file(_safe_file(WIDGET_DIR, rest))

    @app.route("/vendor/socket.io/<rest:path>", methods=["GET", "HEAD"])
    async def socketio(request: Any, rest: str) -> Any:
        return await _send_file(_safe_file(SOCKETIO_DIR, rest))

    @app.route("/staff", methods=["GET", "HEAD"])
    async def staff_redirect(request: Any) -> Any:
        return response.redirect("/staff/")

    @app.route("/staff/", methods=["GET", "HEAD"])
    async def staff_index(request: Any) -> Any:
        return await _send_file(_safe_file(STAFF_DIR, "index.html"))

    @app.route("/staff/<rest:path>", methods=["GET", "HEAD"])
    async def staff_asset(request: Any, rest: str) -> Any:
        return await _send_file(_safe_file(STAFF_DIR, rest))

    @app.middleware("response")
    async def security_headers(request: Any, resp: Any) -> None:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        path = request.path
        if path.startswith("/api/") or path == "/api":
            resp.headers["Cache-Control"] = "no-store"
            resp.headers.setdefault("Referrer-Policy", "no-referrer")
        elif path.startswith("/staff"):
            resp.headers["Content-Security-Policy"] = STAFF_CSP
            resp.headers.setdefault("Referrer-Policy", "no-referrer")
            resp.headers.setdefault("X-Frame-Options", "DENY")

    return app


def run(settings: Any = None) -> None:
    """Serve on settings.web_host:web_port (one worker)."""
    if settings is None:
        from settings import get_settings

        settings = get_settings()
    logging.basicConfig(level=getattr(logging, settings.log_level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)
    app = create_app(settings=settings)
    app.run(host=settings.web_host, port=settings.web_port, access_log=False, motd=False, workers=1)
