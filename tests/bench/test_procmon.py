"""bench.procmon: the sampler finds a role's whole process family from one scan of /proc."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import List

import psutil
import pytest

from bench.procmon import ProcessMonitor, families, tree


def psutil_tree(pid: int) -> List[psutil.Process]:
    """psutil's own answer: the process and its recursive children."""
    root = psutil.Process(pid)
    return [root] + root.children(recursive=True)

# the parent reaps its child when it ends, and lives on
PARENT = ("import subprocess, sys, time; "
          "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']).wait(); time.sleep(60)")


@pytest.fixture()
def parent_with_child():
    """A process that started one child process."""
    proc = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        deadline = time.monotonic() + 20
        while not psutil.Process(proc.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield proc
    finally:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        proc.kill()
        proc.wait()


def test_families_match_psutil_trees(parent_with_child) -> None:
    """The same processes as psutil's recursive children, for each role, without duplicates."""
    pid = parent_with_child.pid
    found = families({"role": [pid], "twice": [pid, pid], "gone": [2 ** 22 + 1]})
    expected = sorted(p.pid for p in psutil_tree(pid))
    assert len(expected) == 2
    assert [p.pid for p in found["role"]] == expected
    assert [p.pid for p in found["twice"]] == expected
    assert [p.pid for p in tree(pid)] == expected
    assert found["gone"] == [] and tree(2 ** 22 + 1) == []


def test_samples_count_memory_and_cpu_of_the_family(parent_with_child) -> None:
    """A sample sums the RSS of parent and child; cpu_seconds sees both; a dead child drops out."""
    monitor = ProcessMonitor({"role": [parent_with_child.pid]}, family_refresh=3600)
    monitor.sample()
    stats = monitor.stats["role"]
    rss = sum(p.memory_info().rss for p in psutil_tree(parent_with_child.pid))
    assert stats.processes == 2
    assert stats.last_rss == pytest.approx(rss, rel=0.2)
    assert monitor.cpu_seconds()["role"] > 0
    psutil.Process(parent_with_child.pid).children()[0].kill()
    deadline = time.monotonic() + 20
    while psutil.Process(parent_with_child.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    monitor.sample()  # the cached family still names the child, which is skipped
    assert stats.processes == 1
