"""The Rasa entry point (scripts/rasa_server.py) and the process it prepares (rasa_runtime.startup)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types
from typing import List

import pytest

from rasa_runtime import install, startup
from scripts import rasa_server
from settings import PROJECT_ROOT as ROOT


def test_entry_point_prepares_then_patches_then_runs_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_rasa: the process is prepared, install_all() runs, and only then Rasa's main with the arguments."""
    calls: List[str] = []
    fake_main = types.ModuleType("rasa.__main__")
    fake_main.main = lambda: calls.append(f"rasa main {sys.argv[1:]}")  # type: ignore[attr-defined]
    monkeypatch.setattr(startup, "prepare_process", lambda: calls.append("prepare"))
    monkeypatch.setattr(install, "install_all", lambda: calls.append("install_all") or [])
    monkeypatch.setitem(sys.modules, "rasa.__main__", fake_main)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    rasa_server.run_rasa(["run", "--port", "5005"])
    assert calls == ["prepare", "install_all", "rasa main ['run', '--port', '5005']"]


def test_entry_point_does_not_start_rasa_on_a_wrong_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Rasa version the patches were not made for stops the entry point before Rasa runs."""
    import rasa

    started: List[bool] = []
    fake_main = types.ModuleType("rasa.__main__")
    fake_main.main = lambda: started.append(True)  # type: ignore[attr-defined]
    monkeypatch.setattr(startup, "prepare_process", lambda: None)
    monkeypatch.setattr(rasa, "__version__", "3.6.20")
    monkeypatch.setitem(sys.modules, "rasa.__main__", fake_main)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    with pytest.raises(install.RasaVersionError):
        rasa_server.run_rasa(["run"])
    assert not started


def test_prepare_process_sets_what_rasa_would_before_tensorflow_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """TF_CPP_MIN_LOG_LEVEL is Rasa's value (it overrides any), the TensorFlow defaults are set unless given."""
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    for name in ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(startup, "skip_optional_imports", lambda: None)  # tested in their own processes below
    monkeypatch.setattr(startup, "defer_heavy_imports", lambda: None)
    startup.prepare_process()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == startup.RASA_TF_CPP_MIN_LOG_LEVEL
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
    assert os.environ["TF_INTRA_OP_PARALLELISM_THREADS"] == os.environ["TF_INTER_OP_PARALLELISM_THREADS"] == "1"


def test_rasa_sets_the_same_tensorflow_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's own logging set-up writes the value quiet_tensorflow_import() sets earlier."""
    from rasa.utils.common import update_tensorflow_log_level

    tf_logger = logging.getLogger("tensorflow")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setattr(tf_logger, "level", tf_logger.level)
    monkeypatch.setattr(tf_logger, "propagate", tf_logger.propagate)
    update_tensorflow_log_level()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == startup.RASA_TF_CPP_MIN_LOG_LEVEL


def test_server_entry_point_keeps_jax_out_and_tensorflow_working() -> None:
    """rasa_runtime.startup: TensorFlow imports and computes, jax is never loaded."""
    code = ("from rasa_runtime.startup import skip_optional_imports; skip_optional_imports(); "
            "import sys, tensorflow as tf; print(int(tf.reduce_sum(tf.constant([1, 2])).numpy()), "
            "sys.modules.get('jax') is None)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["3", "True"]


def test_server_entry_point_turns_onednn_off_unless_asked() -> None:
    """TF_ENABLE_ONEDNN_OPTS defaults to 0 (TensorFlow then says nothing about oneDNN); a set value is kept."""
    code = ("import os; from rasa_runtime.startup import tensorflow_defaults; tensorflow_defaults(); "
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
    code = ("from rasa_runtime.startup import tensorflow_defaults; tensorflow_defaults(); "
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
    code = ("from rasa_runtime.startup import defer_heavy_imports, skip_optional_imports; "
            "skip_optional_imports(); defer_heavy_imports(); import sys, rasa.server, rasa.nlu.test; "
            "before = 'matplotlib' in sys.modules; "
            "fn = rasa.nlu.test.plot_utils.plot_confusion_matrix; "
            "print(before, 'matplotlib' in sys.modules, callable(fn), "
            "sys.modules['rasa.utils.plotting'].plot_confusion_matrix is fn)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-4:] == ["False", "True", "True", "True"]
