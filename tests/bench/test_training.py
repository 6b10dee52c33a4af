"""bench.training and the training target: a time measured with Rasa's cache is not checked as a from-scratch one."""

from __future__ import annotations

from pathlib import Path

from bench.report import evaluate_targets
from bench.training import read_training_record, recorded_training


def training_target(training: dict) -> dict:
    """The training row of the targets for a result that has only a training figure."""
    rows = evaluate_targets({"setup": "default", "levels": [], "training": training}, None)
    return next(row for row in rows if row["id"] == "training")


def test_the_makefile_record_is_read_with_its_cache_state(tmp_path: Path) -> None:
    """"142 fresh" → 142 s from scratch; "40 cache" → flagged; an old one-number file still reads."""
    path = tmp_path / "train-seconds.txt"
    for text, expected in (("142 fresh\n", (142.0, "fresh")), ("40 cache\n", (40.0, "cache")),
                           ("159\n", (159.0, None)), ("", (None, None)), ("soon\n", (None, None))):
        path.write_text(text, encoding="utf-8")
        assert read_training_record(path) == expected
    assert read_training_record(tmp_path / "missing.txt") == (None, None)


def test_a_training_from_scratch_is_checked_and_a_cached_one_is_not(tmp_path: Path) -> None:
    """Against 3 minutes: 142 s fresh is met, 215 s fresh is missed, 40 s with the cache is n/a."""
    path = tmp_path / "train-seconds.txt"
    path.write_text("142 fresh\n", encoding="utf-8")
    assert training_target(recorded_training(path))["met"] is True
    path.write_text("215 fresh\n", encoding="utf-8")
    assert training_target(recorded_training(path))["met"] is False
    path.write_text("40 cache\n", encoding="utf-8")
    cached = recorded_training(path)
    assert cached["from_cache"] is True and "--measure-training" in cached["note"]
    row = training_target(cached)
    assert row["met"] is None and "cache" in row["value"]
    assert training_target({"seconds": None})["met"] is None
