"""Start-up of the Rasa server: warm-up without stored conversations, no jax, the tuned tracker store."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys

import pytest

from channels.warmup import release_free_memory, warm_up
from tests.stack import ROOT, Stack


def test_warm_up_without_a_model_does_nothing() -> None:
    """No agent (model not loaded yet): nothing to warm, no error."""
    assert asyncio.run(warm_up(None)) == 0.0


def test_free_memory_is_returned_on_glibc() -> None:
    """This machine's libc has malloc_trim; the call succeeds."""
    assert release_free_memory() is True


def test_server_entry_point_keeps_jax_out_and_tensorflow_working() -> None:
    """scripts.rasa_server: TensorFlow imports and computes, jax is never loaded."""
    code = ("from scripts.rasa_server import skip_optional_imports; skip_optional_imports(); "
            "import sys, tensorflow as tf; print(int(tf.reduce_sum(tf.constant([1, 2])).numpy()), "
            "sys.modules.get('jax') is None)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["3", "True"]


def test_server_entry_point_turns_onednn_off_unless_asked() -> None:
    """TF_ENABLE_ONEDNN_OPTS defaults to 0 (TensorFlow then says nothing about oneDNN); a set value is kept."""
    code = ("import os; from scripts.rasa_server import tensorflow_defaults; tensorflow_defaults(); "
            "import tensorflow as tf; print(os.environ['TF_ENABLE_ONEDNN_OPTS'], "
            "int(tf.reduce_sum(tf.constant([1, 2])).numpy()))")
    # TensorFlow reports oneDNN at INFO level: make sure it may log (make test quiets it)
    env = {**{k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}, "TF_CPP_MIN_LOG_LEVEL": "0"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["0", "3"]
    assert "oneDNN custom operations are on" not in out.stderr
    kept = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**env, "TF_ENABLE_ONEDNN_OPTS": "1"})
    assert kept.stdout.split()[-2:] == ["1", "3"]
    assert "oneDNN custom operations are on" in kept.stderr


def test_server_entry_point_runs_tensorflow_on_one_thread_unless_asked() -> None:
    """Rasa's thread variables default to 1 and reach TensorFlow through Rasa's own set-up; set values are kept."""
    code = ("from scripts.rasa_server import tensorflow_defaults; tensorflow_defaults(); "
            "from rasa.utils.tensorflow.environment import setup_tf_environment; setup_tf_environment(); "
            "import tensorflow as tf; print(tf.config.threading.get_intra_op_parallelism_threads(), "
            "tf.config.threading.get_inter_op_parallelism_threads())")
    names = ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in names}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["1", "1"]
    kept = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**env, names[0]: "2", names[1]: "3"})
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert kept.stdout.split()[-2:] == ["2", "3"]


def test_server_entry_point_defers_plotting_until_used() -> None:
    """Rasa's server module imports without matplotlib; Rasa's plotting still works when called."""
    code = ("from scripts.rasa_server import defer_heavy_imports, skip_optional_imports; "
            "skip_optional_imports(); defer_heavy_imports(); import sys, rasa.server, rasa.nlu.test; "
            "before = 'matplotlib' in sys.modules; "
            "fn = rasa.nlu.test.plot_utils.plot_confusion_matrix; "
            "print(before, 'matplotlib' in sys.modules, callable(fn), "
            "sys.modules['rasa.utils.plotting'].plot_confusion_matrix is fn)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-4:] == ["False", "True", "True", "True"]


@pytest.mark.stack
def test_server_warms_up_and_stores_nothing_for_it(stack: Stack) -> None:
    """The Rasa log reports the warm-up; the tracker database holds no warm-up conversation."""
    assert "Warm-up done" in stack.log("rasa")
    assert "free memory returned to the system" in stack.log("rasa")
    with sqlite3.connect(stack.tracker_db) as conn:
        senders = [row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert not [s for s in senders if s.startswith("warm-up-")]
    assert mode == "wal"  # the stack runs endpoints.yml's store (rasa_stores.tracker_store)
