"""rasa_runtime.fast_predict and rasa_runtime.graph_runner on the trained model: exactly Rasa's parses and predictions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from settings import PROJECT_ROOT as ROOT

MODEL = ROOT / "models" / "ip-assistant.tar.gz"
pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def replays() -> dict:
    """Stock and shortcut replays of the same conversations, in a separate process."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "rasa_runtime" / "turn_shortcuts_check.py"), str(MODEL)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_parse_and_prediction_is_identical(replays: dict) -> None:
    """Intent, confidences, ranking, entities and each predicted action's probabilities match exactly."""
    assert replays["messages"] > 250
    assert len(replays["fast"]) == len(replays["stock"]) > 2 * replays["messages"]
    for stock, fast in zip(replays["stock"], replays["fast"]):
        assert fast == stock, stock


def test_the_shortcut_was_taken(replays: dict) -> None:
    """The DIET model holds its concrete function, so the later calls went the direct way."""
    assert replays["models_direct"] >= 1
