"""Rasa's prediction graphs run node by node in this thread, without dask's scheduler.

Rasa 3.6 runs its NLU graph once per message and its policy graph once per predicted action through
``DaskGraphRunner.run``, which hands the graph to ``dask.get``: dask orders the tasks, sets up its
queues and executes them one after the other in the calling thread. For graphs of 5 to 10 nodes the
scheduling costs more than some of the nodes, about 0.2 ms per run and 0.5 ms per turn (measured with
no-op nodes on this model's graphs, docs/bench.md). ``install()`` keeps everything of
``DaskGraphRunner.run`` (the minimal graph for the targets, the inputs, the node objects with their
hooks, the result dictionary, ``GraphRunError`` for a ``RuntimeError``) and only evaluates the
graph itself with ``run_tasks``: each node once, after the nodes it needs, following the dask graph
specification Rasa builds it for (a tuple starting with a callable is a task, its arguments that
name a node are replaced by that node's result, anything else is a value).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

from rasa_runtime.patching import ClassPatch

logger = logging.getLogger(__name__)


def is_task(value: Any) -> bool:
    """A dask task: a non-empty tuple whose first element is callable."""
    return type(value) is tuple and bool(value) and callable(value[0])


def run_tasks(graph: Dict[str, Any], targets: Sequence[str]) -> List[Any]:
    """The targets' values, each node computed once after what it needs (as ``dask.get``)."""
    results: Dict[str, Any] = {}
    in_progress: set = set()

    def compute(key: str) -> Any:
        if key in results:
            return results[key]
        if key in in_progress:
            raise RuntimeError(f"Cycle in the graph at '{key}'")
        in_progress.add(key)
        task = graph[key]
        if is_task(task):
            args = [compute(arg) if isinstance(arg, str) and arg in graph else arg for arg in task[1:]]
            value = task[0](*args)
        else:
            value = task
        in_progress.discard(key)
        results[key] = value
        return value

    return [compute(target) for target in targets]


def run(self: DaskGraphRunner, inputs: Optional[Dict[str, Any]] = None,
        targets: Optional[List[str]] = None) -> Dict[str, Any]:
    """DaskGraphRunner.run evaluating the graph with run_tasks."""
    run_targets = targets if targets else self._graph_schema.target_names
    minimal_schema = self._graph_schema.minimal_graph_schema(run_targets)
    run_graph = self._build_dask_graph(minimal_schema)
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    try:
        return dict(run_tasks(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


PATCH = ClassPatch(DaskGraphRunner, "run", run)
install, uninstall = PATCH.install, PATCH.uninstall
