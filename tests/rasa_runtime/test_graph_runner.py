"""rasa_runtime.graph_runner: graphs evaluated node by node give what dask.get gives, each node once."""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List

import dask
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.engine.runner.dask import DaskGraphRunner

from rasa_runtime import graph_runner
from rasa_runtime.graph_runner import run_tasks


def build_graph(edges: List[List[int]], calls: Counter) -> Dict[str, Any]:
    """Node i needs the nodes listed in edges[i] (all earlier: a DAG); each node returns its inputs."""
    graph: Dict[str, Any] = {"__input__": ("__input__", ["a message"])}
    for i, needs in enumerate(edges):
        name = f"node{i}"

        def node(*inputs: Any, _name: str = name) -> Any:
            calls[_name] += 1
            return (_name, inputs)

        graph[name] = (node, "__input__", *[f"node{j}" for j in needs], "not-a-node")
    return graph


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(*[st.lists(st.integers(0, max(0, i - 1)), max_size=3).map(
        lambda needs, i=i: sorted(set(needs)) if i else []) for i in range(n)])))
def test_same_results_as_dask_and_each_node_runs_once(edges: tuple) -> None:
    """Random DAGs: every target's value equals dask.get's, and no node runs twice."""
    targets = [f"node{len(edges) - 1}", "node0"]
    dask_calls: Counter = Counter()
    ours_calls: Counter = Counter()
    expected = dask.get(build_graph(list(edges), dask_calls), targets)
    got = run_tasks(build_graph(list(edges), ours_calls), targets)
    assert list(got) == list(expected)
    assert ours_calls and all(count == 1 for count in ours_calls.values())
    assert set(ours_calls) <= set(dask_calls)


def test_inputs_are_values_and_unknown_names_are_passed_as_text() -> None:
    """An input tuple is data, not a task; an argument naming no node arrives as the string."""
    graph = build_graph([[]], Counter())
    (name, inputs), = run_tasks(graph, ["node0"])
    assert name == "node0"
    assert inputs == (("__input__", ["a message"]), "not-a-node")


def test_a_failing_node_raises_its_own_error() -> None:
    """The node's exception propagates unchanged, as with dask.get."""

    def broken() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        run_tasks({"bad": (broken,)}, ["bad"])


def test_a_cycle_is_an_error_not_a_hang() -> None:
    """A graph that needs itself stops with RuntimeError (the runner turns it into GraphRunError)."""
    graph = {"a": (lambda x: x, "b"), "b": (lambda x: x, "a")}
    with pytest.raises(RuntimeError, match="Cycle"):
        run_tasks(graph, ["a"])


def test_install_and_uninstall() -> None:
    """Installed once; Rasa's method comes back."""
    original = DaskGraphRunner.run
    assert graph_runner.install()
    try:
        assert graph_runner.install() is False
        assert DaskGraphRunner.run is graph_runner.run
    finally:
        graph_runner.uninstall()
    assert DaskGraphRunner.run is original
