"""Training time: read from results/train-seconds.txt, or measured with `rasa train --force`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Tuple

from settings import PROJECT_ROOT as ROOT

TRAIN_FILE = ROOT / "results" / "train-seconds.txt"
HOW_TO = ("no training time recorded: run `python -m bench.run_bench --measure-training` (times "
          "`rasa train --force` into a temporary folder), or have the Makefile write the seconds of "
          "`make train` to results/train-seconds.txt")


FROM_CACHE = ("`make train` started with a non-empty Rasa cache (.rasa/cache), which may have supplied "
              "trained components: not a training from scratch, so not checked against the target; "
              "`python -m bench.run_bench --measure-training` times one")


def read_training_record(path: Path = TRAIN_FILE) -> Tuple[Optional[float], Optional[str]]:
    """The seconds and how the cache was ("fresh", "cache", or None when unsaid) from the Makefile's file."""
    try:
        words = path.read_text(encoding="utf-8").split()
        return (float(words[0]) if words else None), (words[1] if len(words) > 1 else None)
    except (OSError, ValueError):
        return None, None


def recorded_training(path: Path = TRAIN_FILE) -> dict:
    """The recorded training time, or null with how to get one; flagged when Rasa's cache was not empty."""
    seconds, cache = read_training_record(path)
    if seconds is None:
        return {"seconds": None, "source": None, "note": HOW_TO}
    source = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    if cache == "cache":
        return {"seconds": round(seconds, 1), "source": source, "from_cache": True, "note": FROM_CACHE}
    return {"seconds": round(seconds, 1), "source": source, "from_cache": False,
            "note": "as written by the Makefile (empty Rasa cache)" if cache == "fresh" else "as written by the Makefile"}


def measure_training(log=print, timeout: float = 3600.0) -> dict:
    """Time `rasa train --force --out <tmp>` (own empty cache, so nothing is reused; models/ is untouched)."""
    rasa = Path(sys.executable).parent / "rasa"
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        cmd = [str(rasa), "train", "--force", "--out", tmp, "--fixed-model-name", "bench-train", "--quiet"]
        env = dict(os.environ, RASA_CACHE_DIRECTORY=str(Path(tmp) / "cache"), SQLALCHEMY_SILENCE_UBER_WARNING="1")
        for name in ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY"):
            env.setdefault(name, "")
        log(f"measuring training: {' '.join(cmd[1:])} (cache {tmp}/cache)")
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
        seconds = time.monotonic() - start
        model = Path(tmp) / "bench-train.tar.gz"
        result = {"seconds": round(seconds, 1), "source": "measured (--measure-training)",
                  "returncode": proc.returncode,
                  "model_mb": round(model.stat().st_size / 2**20, 1) if model.exists() else None,
                  "command": "rasa train --force --out <tmp> --fixed-model-name bench-train",
                  "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
        if proc.returncode != 0:
            result["note"] = "training failed: " + proc.stdout.decode("utf-8", "replace")[-1500:]
            result["seconds"] = None
        return result
