"""python -m webapp: serve the web server on settings.web_host:web_port."""

from .server import run

if __name__ == "__main__":
    run()
