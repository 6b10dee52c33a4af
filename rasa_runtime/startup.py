"""The Rasa server process before Rasa loads: without jax, with matplotlib deferred, TensorFlow on one thread.

TensorFlow 2.12 imports jax at start-up only for an optional TFLite converter helper
(tensorflow/lite/python/util.py, inside try/except ImportError). In a Rasa server that import costs
about 65 MB of memory and a second of start-up, and nothing uses it: ``skip_optional_imports`` marks
jax as unavailable before anything imports TensorFlow. Rasa's server module also imports its
model-testing code, whose plotting module loads matplotlib (about 5 MB and 0.1 s); the server only
plots when the model-test HTTP endpoint is used, so ``defer_heavy_imports`` registers
``rasa.utils.plotting`` as a module that imports the real one on first use. ``tensorflow_defaults``
turns TensorFlow's oneDNN kernels off (``TF_ENABLE_ONEDNN_OPTS=0`` unless the variable is set): for
DIET's small per-message graphs the plain kernels need about 65-90 MB less memory and less CPU per
message (docs/bench.md). It also runs each process's operations on one thread unless told otherwise
(``TF_INTRA_OP_PARALLELISM_THREADS`` and ``TF_INTER_OP_PARALLELISM_THREADS``, Rasa's own variables,
default 1 here): DIET's operations on one message are too small to gain from a thread pool, and
handing them to one costs CPU; with one thread a server answers about a quarter more turns per
second at 10 users on 2 cores, at the same single-user latency (docs/bench.md). Scale with server
processes (replicas) instead. ``quiet_tensorflow_import`` sets TensorFlow's C++ log level to the
value Rasa's command line gives it before TensorFlow's first import (update_tensorflow_log_level in
rasa/utils/common.py): install_all() imports TensorFlow before Rasa's command line starts.
``prepare_process`` does all of this; scripts/rasa_server.py calls it first.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import types
from typing import Any

logger = logging.getLogger(__name__)

SKIPPED_MODULES = ("jax", "jaxlib")
DEFERRED_MODULES = ("rasa.utils.plotting",)
TENSORFLOW_DEFAULTS = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    # read by Rasa itself (rasa/utils/tensorflow/environment.py) when its command line starts
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}
RASA_TF_CPP_MIN_LOG_LEVEL = "2"  # what Rasa 3.6 always sets (no CUDA, CPU-feature or oneDNN INFO lines)


class DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is used, then imports the real one."""

    def __getattr__(self, attribute: str) -> Any:
        """Import the real module (replacing this one in sys.modules) and return its attribute."""
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, attribute)


def tensorflow_defaults() -> None:
    """Set TENSORFLOW_DEFAULTS in the environment, before TensorFlow loads, unless already set."""
    for name, value in TENSORFLOW_DEFAULTS.items():
        os.environ.setdefault(name, value)


def defer_heavy_imports() -> None:
    """Register stand-ins for DEFERRED_MODULES that are not imported yet."""
    for name in DEFERRED_MODULES:
        sys.modules.setdefault(name, DeferredModule(name))


def skip_optional_imports() -> None:
    """Make `import jax` raise ImportError (TensorFlow then leaves its optional helper unset)."""
    for name in SKIPPED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def quiet_tensorflow_import() -> None:
    """TF_CPP_MIN_LOG_LEVEL as Rasa's command line sets it (it overrides any value), before TensorFlow loads."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = RASA_TF_CPP_MIN_LOG_LEVEL


def prepare_process() -> None:
    """All of the above, in the order they must happen: before TensorFlow or Rasa is imported."""
    skip_optional_imports()
    defer_heavy_imports()
    tensorflow_defaults()
    quiet_tensorflow_import()
