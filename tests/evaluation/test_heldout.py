"""The blind held-out set: quote resolution, the split, and the scoring of unstated and ranking cases."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evaluation.heldout import HELDOUT_DIR, build, default_resolver, split_of
from evaluation.scoring import CitationIndex, load_multi_turn, load_single_turn, parse_single_turn, score_answer

WRITERS = HELDOUT_DIR / "writers"


@pytest.fixture(scope="module")
def resolver():
    """Quotes resolved against the real KB and its sources."""
    return default_resolver()


def test_a_quote_resolves_to_the_measure_that_holds_it(resolver) -> None:
    assert resolver.resolve("shanghai-gov-2024-7", "专利质押登记全流程线上办理") == ["shgov-30"]
    assert resolver.resolve("cnipa-2017-30", "not in the document") == []
    assert resolver.resolve("no-such-doc", "专利") == []


def test_the_committed_splits_are_what_the_writers_files_give(resolver, tmp_path: Path) -> None:
    splits, problems = build(WRITERS, resolver)
    assert not problems
    for name in ("dev", "test"):
        committed = yaml.safe_load((HELDOUT_DIR / f"{name}.yml").read_text(encoding="utf-8"))
        assert committed == splits[name], f"{name}.yml is stale: rebuild with python -m evaluation.heldout build"
    assert {split_of(c["id"]) for c in splits["test"]["cases"]} == {"test"}


def test_the_set_is_as_large_as_promised() -> None:
    cases = [*load_single_turn(HELDOUT_DIR / "dev.yml"), *load_single_turn(HELDOUT_DIR / "test.yml")]
    convs = [*load_multi_turn(HELDOUT_DIR / "dev.yml"), *load_multi_turn(HELDOUT_DIR / "test.yml")]
    assert len(cases) >= 400 and len(convs) >= 60
    assert all(len(c.turns) >= 3 for c in convs)
    assert sum(c.category == "out_of_scope" for c in cases) >= 80
    assert sum(c.category == "unstated" for c in cases) >= 60


def test_unstated_needs_an_explicit_not_stated_and_ranking_the_right_first_citation() -> None:
    index = CitationIndex({"a": "《甲》第1条", "b": "《甲》第2条"})
    unstated, ranking = parse_single_turn({"cases": [
        {"id": "u", "text": "收费吗", "category": "unstated", "cite_any": ["a"]},
        {"id": "r", "text": "第一步是什么", "category": "policy", "cite_any": ["a", "b"], "cite_first": ["b"]},
    ]})
    assert score_answer(unstated, "这几份政策文件没有写明收费标准。《甲》第1条", [], index).correct
    assert not score_answer(unstated, "《甲》第1条 给予支持", [], index).correct
    assert not score_answer(unstated, "· 负责部门：市知识产权局（文件未列明责任单位，据条文推定） 《甲》第1条", [], index).correct
    assert score_answer(ranking, "《甲》第2条 …《甲》第1条", [], index).correct
    assert not score_answer(ranking, "《甲》第1条 …《甲》第2条", [], index).correct


def test_every_locked_run_is_counted(tmp_path: Path, monkeypatch) -> None:
    from evaluation import run_heldout

    monkeypatch.setattr(run_heldout, "LOCKED_LOG", tmp_path / "locked_runs.log")
    figures = {key: {"n": 2, "correct": 1, "accuracy": 0.5}
               for key in ("single_turn", "conversations", "out_of_scope_no_citation", "unstated_said_not_stated")}
    assert run_heldout.record_locked_run(figures, "stack", None) == 1
    assert run_heldout.record_locked_run(figures, "stack", None) == 2
    lines = (tmp_path / "locked_runs.log").read_text(encoding="utf-8").splitlines()
    assert [line.split()[1] for line in lines] == ["1", "2"] and "single=1/2 (50.0%)" in lines[1]
