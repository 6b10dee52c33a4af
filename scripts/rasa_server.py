"""`python -m scripts.rasa_server run …`: the `rasa` command, without loading jax or matplotlib.

TensorFlow 2.12 imports jax at start-up only for an optional TFLite converter helper
(tensorflow/lite/python/util.py, inside try/except ImportError). In a Rasa server that import costs
about 65 MB of memory and a second of start-up, and nothing uses it. This entry point marks jax as
unavailable before anything imports TensorFlow. Rasa's server module also imports its model-testing
code, whose plotting module loads matplotlib (about 5 MB and 0.1 s); the server only plots when the
model-test HTTP endpoint is used, so ``rasa.utils.plotting`` is registered as a module that imports
the real one on first use. TensorFlow's oneDNN kernels are off by default
(``TF_ENABLE_ONEDNN_OPTS=0`` unless the variable is set): for DIET's small per-message graphs the
plain kernels need about 65-90 MB less memory and less CPU per message (docs/bench.md). TensorFlow
also runs each process's operations on one thread unless told otherwise
(``TF_INTRA_OP_PARALLELISM_THREADS`` and ``TF_INTER_OP_PARALLELISM_THREADS``, Rasa's own variables,
default 1 here): DIET's operations on one message are too small to gain from a thread pool, and
handing them to one costs CPU; with one thread a server answers about a quarter more turns per
second at 10 users on 2 cores, at the same single-user latency (docs/bench.md). Scale with server
processes (replicas) instead. Then Rasa's own command line runs unchanged. `make run`, the tests, the
benchmark and the production set-up start Rasa this way; `rasa train` and the other commands are
unaffected.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any, Sequence

SKIPPED_MODULES = ("jax", "jaxlib")
DEFERRED_MODULES = ("rasa.utils.plotting",)


class DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is used, then imports the real one."""

    def __getattr__(self, attribute: str) -> Any:
        """Import the real module (replacing this one in sys.modules) and return its attribute."""
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, attribute)


TENSORFLOW_DEFAULTS = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    # read by Rasa itself (rasa/utils/tensorflow/environment.py) when its command line starts
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


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


def run_rasa(argv: Sequence[str]) -> None:
    """Run `rasa ARGV` in this process."""
    skip_optional_imports()
    defer_heavy_imports()
    tensorflow_defaults()
    sys.argv = ["rasa", *argv]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    run_rasa(sys.argv[1:])
