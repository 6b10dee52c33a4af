"""``install_all()``: every in-process change of Rasa, installed once, only on the Rasa version they were made for.

Each change replaces one attribute of one Rasa class through a ``ClassPatch`` (rasa_runtime.patching)
and has a test that compares it with Rasa's own code (tests/rasa_contract/ and tests/rasa_runtime/). They are written against
the Rasa of requirements/requirements.lock: on any other version ``install_all`` refuses with
``RasaVersionError`` instead of changing code it was not checked against. The one Rasa entry point,
``scripts/rasa_server.py`` (``make run``, the tests, the benchmark, the production layouts), calls it
before Rasa's command line starts; the readiness probe (rasa_runtime.readiness) stays at 503 in a
server where it did not run.
"""

from __future__ import annotations

import importlib
import logging
from typing import List, Optional, Tuple

from rasa_runtime.patching import ClassPatch

logger = logging.getLogger(__name__)

SUPPORTED_RASA_VERSION = "3.6.21"  # rasa==… in requirements/requirements.lock (a test keeps them equal)

# module of each change (its PATCH), in the order they are installed
PATCH_MODULES: Tuple[str, ...] = (
    "rasa_runtime.event_types",   # Event.resolve_by_type from a table
    "rasa_runtime.graph_runner",  # DaskGraphRunner.run without dask's scheduler
    "rasa_runtime.fast_predict",  # RasaModel._rasa_predict through the concrete function (loads TensorFlow)
    "rasa_runtime.action_client",  # EndpointConfig.request on kept connections
    "rasa_runtime.action_reply",  # RemoteAction._validate_action_result with a compiled validator
    "rasa_runtime.action_guard",  # RemoteAction.run: a polite answer when the action server fails
)


class RasaVersionError(RuntimeError):
    """The installed Rasa is not the version the patches were written and tested against."""


def check_rasa_version(found: Optional[str] = None) -> None:
    """Raise RasaVersionError unless Rasa (or ``found``) is SUPPORTED_RASA_VERSION."""
    if found is None:
        import rasa

        found = rasa.__version__
    if found != SUPPORTED_RASA_VERSION:
        raise RasaVersionError(
            f"rasa_runtime changes Rasa {SUPPORTED_RASA_VERSION} internals, but Rasa {found} is installed: "
            f"nothing was installed. Install the locked version (make install), or port every patch in "
            f"rasa_runtime/ to Rasa {found}, run tests/rasa_contract/ and tests/rasa_runtime/ and update SUPPORTED_RASA_VERSION "
            f"with requirements/requirements.lock."
        )


def patches() -> List[ClassPatch]:
    """The PATCH of every module in PATCH_MODULES, in order (imports them)."""
    return [importlib.import_module(name).PATCH for name in PATCH_MODULES]


def install_all() -> List[str]:
    """Check Rasa's version, then install every patch not yet installed; the targets installed by this call."""
    check_rasa_version()
    done = [patch.target for patch in patches() if patch.install()]
    if done:
        logger.info("Rasa %s patched in this process: %s", SUPPORTED_RASA_VERSION, ", ".join(done))
    return done


def uninstall_all() -> None:
    """Restore Rasa's own code everywhere (tests)."""
    for patch in reversed(patches()):
        patch.uninstall()


def all_installed() -> bool:
    """True when every patch is in place (what the readiness probe requires)."""
    return all(patch.installed for patch in patches())
