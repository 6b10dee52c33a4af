"""DIET's prediction through its one compiled TensorFlow function, without tf.function's dispatch.

Rasa 3.6 wraps ``predict_step`` in ``tf.function`` with a fixed input signature on the first
prediction (``RasaModel._rasa_predict``), so exactly one concrete function ever exists. Calling the
``tf.function`` still looks that function up on every message: it canonicalises the inputs, computes
their trace type and casts them to the signature, about 1 ms of the Rasa server's CPU per message
(py-spy, docs/bench.md). ``install()`` makes ``_rasa_predict`` call the concrete function directly once
Rasa has created it; the graph, its inputs and its outputs are the same (tests/rasa_runtime/test_turn_shortcuts.py
compares the parse of every benchmark and evaluation message with and without it). The first
prediction of a model, eager mode, and a model whose function Rasa rebuilt all go through Rasa's
own code.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Tuple

from keras.utils import tf_utils
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.utils.tensorflow.models import RasaModel

from rasa_runtime.patching import ClassPatch

logger = logging.getLogger(__name__)

CACHE_ATTRIBUTE = "_concrete_predict"  # (tf.function it was taken from, its concrete function)


def _rasa_predict(self: RasaModel, batch_in: Tuple[Any, ...]) -> Dict[str, Any]:
    """RasaModel._rasa_predict calling the compiled function directly when Rasa has built it."""
    cached = self.__dict__.get(CACHE_ATTRIBUTE)
    if self._run_eagerly or cached is None or cached[0] is not self._tf_predict_step:
        outputs = PATCH.original(self, batch_in)
        if not self._run_eagerly and self._tf_predict_step is not None:
            self.__dict__[CACHE_ATTRIBUTE] = (self._tf_predict_step, self._tf_predict_step.get_concrete_function())
        return outputs
    self._training = False
    outputs = tf_utils.sync_to_numpy_or_python_type(cached[1](batch_in))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


PATCH = ClassPatch(RasaModel, "_rasa_predict", _rasa_predict)
install, uninstall = PATCH.install, PATCH.uninstall
