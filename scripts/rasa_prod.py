"""`python -m scripts.rasa_prod run …`: a Rasa replica of the production layout (`make run-prod`, compose, Kubernetes).

The same as scripts.rasa_server, plus Rasa's HTTP API behind RASA_AUTH_TOKEN when that is set: the
token is added here, inside the process, so it never shows on the command line (ps). Without the
token the HTTP API stays closed, and --enable-api is refused.
"""

from __future__ import annotations

import logging
import sys
from typing import List, Sequence

from scripts.rasa_server import run_rasa
from settings import get_settings

logger = logging.getLogger(__name__)


def rasa_argv(args: Sequence[str], token: str) -> List[str]:
    """`rasa ARGS`; the HTTP API only with a token, and then always behind it."""
    token = (token or "").strip()
    if not token and "--enable-api" in args:
        raise SystemExit("--enable-api without RASA_AUTH_TOKEN would open Rasa's HTTP API to everyone")
    argv = ["rasa", *args]
    if token and args and args[0] == "run":
        argv += ["--enable-api", "--auth-token", token]
    return argv


def main(args: Sequence[str]) -> None:
    """Run rasa in this process with rasa_argv() and settings.py's RASA_AUTH_TOKEN."""
    run_rasa(rasa_argv(args, get_settings().rasa_auth_token)[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
