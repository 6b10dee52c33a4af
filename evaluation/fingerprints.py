"""Short sha256 fingerprints of the code, data, NLU config and model an evaluation run depended on."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from settings import PROJECT_ROOT as ROOT

logger = logging.getLogger(__name__)

EVAL_DIR = ROOT / "tests" / "eval"



def config_fingerprint() -> str:
    """Short sha256 of config.yml (the NLU pipeline a cross-validation used)."""
    path = ROOT / "config.yml"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else ""


def fingerprint(model: Path | None = None) -> dict[str, str]:
    """Short sha256 of the code and files the answers depend on (the tree changes between runs).

    data/ is left out on purpose: the training data is only read through Rasa commands.
    """
    groups = {
        "actions": sorted((ROOT / "actions").glob("*.py")),
        "policies_kb": sorted([*(ROOT / "policies_kb").glob("*.py"), *(ROOT / "policies_kb" / "data").rglob("*.yml")]),
        "domain_config": [ROOT / "domain.yml", ROOT / "config.yml"],
        "eval_set": sorted(EVAL_DIR.glob("*.yml")),
    }
    out = {}
    for name, files in groups.items():
        digest = hashlib.sha256()
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
        out[name] = digest.hexdigest()[:12]
    if model and model.is_file():
        digest = hashlib.sha256()
        with open(model, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        out["model"] = digest.hexdigest()[:12]
    return out
