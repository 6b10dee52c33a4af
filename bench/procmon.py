"""Memory and CPU of the assistant's processes: psutil samples every 0.2 s, children included.

The sampler shares the machine with what it measures, so it is kept cheap: one scan of /proc finds
the descendants of every role at once (psutil's ``children(recursive=True)`` scans all of /proc per
call, 12 ms of CPU per sample for the production layout), and the families are looked up again only
every ``family_refresh`` seconds; in between, a sample reads each known process's memory only.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set
from urllib.parse import urlparse

import psutil

MB = 1024 * 1024
ROLES = ("rasa", "actions", "web", "nginx", "redis", "postgres")


def role_of(proc: psutil.Process) -> Optional[str]:
    """Which part of the assistant a process is, from its command line."""
    try:
        cmd = proc.cmdline()
        name = proc.name()
    except (psutil.Error, OSError):
        return None
    joined = " ".join(cmd)
    if name.startswith("nginx") or (cmd and os.path.basename(cmd[0]).startswith("nginx")):
        return "nginx"
    if name.startswith("redis-server"):
        return "redis"
    if name.startswith("postgres") or "postgres:" in joined:
        return "postgres"
    if "rasa_sdk" in joined:
        return "actions"
    for i, arg in enumerate(cmd):
        # `rasa run …`, `rasa run actions …`, `python -m scripts.rasa_server run …` and `python -m scripts.rasa_prod run …`
        base = os.path.basename(arg)
        if (base == "rasa" or base.endswith("-rasa") or base in ("scripts.rasa_server", "scripts.rasa_prod")) and i + 1 < len(cmd) and cmd[i + 1] == "run":
            return "actions" if i + 2 < len(cmd) and cmd[i + 2] == "actions" else "rasa"
    if "-m webapp" in joined or any(a.startswith("webapp.") or a == "webapp" for a in cmd):
        return "web"
    return None


def families(roots: Dict[str, Iterable[int]]) -> Dict[str, List[psutil.Process]]:
    """Each role's processes (its pids and all their descendants, each once) from one scan of /proc."""
    by_pid: Dict[int, psutil.Process] = {}
    children: Dict[int, List[int]] = {}
    for proc in psutil.process_iter(["ppid"]):
        by_pid[proc.pid] = proc
        children.setdefault(proc.info["ppid"], []).append(proc.pid)
    result: Dict[str, List[psutil.Process]] = {}
    for role, pids in roots.items():
        seen: Set[int] = set()
        todo = [pid for pid in pids if pid in by_pid]
        while todo:
            pid = todo.pop()
            if pid not in seen:
                seen.add(pid)
                todo.extend(children.get(pid, ()))
        result[role] = [by_pid[pid] for pid in sorted(seen)]
    return result


def tree(pid: int) -> List[psutil.Process]:
    """A process and all its descendants (those still alive)."""
    return families({"tree": [pid]})["tree"]


@dataclass
class RoleStats:
    """What the sampler found for one role."""

    pids: List[int]
    peak_rss: int = 0
    peak_rss_process: int = 0
    last_rss: int = 0
    processes: int = 0
    cmdlines: List[str] = field(default_factory=list)
    phase_peaks: Dict[str, int] = field(default_factory=dict)


class ProcessMonitor:
    """Samples the RSS of each role's process trees in a thread; marks phases (levels) for per-phase peaks."""

    def __init__(self, roles: Dict[str, Iterable[int]], interval: float = 0.2, family_refresh: float = 1.0) -> None:
        self.interval = interval
        self.family_refresh = family_refresh
        self._families: Dict[str, List[psutil.Process]] = {}
        self._families_at = float("-inf")
        self.stats: Dict[str, RoleStats] = {}
        for role, pids in roles.items():
            pids = sorted(set(int(p) for p in pids))
            if not pids:
                continue
            cmdlines = []
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    cmdlines.append(" ".join(psutil.Process(pid).cmdline())[:300])
            self.stats[role] = RoleStats(pids=pids, cmdlines=cmdlines)
        self.phase = "idle"
        self.samples = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._cpu_mark: Dict[str, float] = {}

    def families(self, fresh: bool = False) -> Dict[str, List[psutil.Process]]:
        """Each role's processes, looked up again when older than family_refresh seconds (or fresh)."""
        now = time.monotonic()
        if fresh or now - self._families_at >= self.family_refresh:
            self._families = families({role: stats.pids for role, stats in self.stats.items()})
            self._families_at = now
        return self._families

    def sample(self) -> None:
        """Take one sample of every role."""
        with self._lock:
            for role, procs in self.families().items():
                stats = self.stats[role]
                total = 0
                largest = 0
                alive = 0
                for proc in procs:
                    try:
                        rss = proc.memory_info().rss
                    except psutil.Error:
                        continue
                    alive += 1
                    total += rss
                    largest = max(largest, rss)
                stats.last_rss = total
                stats.processes = alive
                stats.peak_rss = max(stats.peak_rss, total)
                stats.peak_rss_process = max(stats.peak_rss_process, largest)
                stats.phase_peaks[self.phase] = max(stats.phase_peaks.get(self.phase, 0), total)
            self.samples += 1

    def cpu_seconds(self) -> Dict[str, float]:
        """CPU seconds (user + system) used so far by each role's current process trees."""
        result: Dict[str, float] = {}
        with self._lock:
            current = self.families(fresh=True)
        for role, procs in current.items():
            total = 0.0
            for proc in procs:
                try:
                    times = proc.cpu_times()
                except psutil.Error:
                    continue
                total += times.user + times.system
            result[role] = total
        return result

    def set_phase(self, phase: str) -> None:
        """Start attributing peaks to a new phase."""
        with self._lock:
            self.phase = phase

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> "ProcessMonitor":
        """Start sampling in the background."""
        self._thread = threading.Thread(target=self._run, name="bench-procmon", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (takes a last sample)."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.sample()

    def report(self) -> Dict[str, dict]:
        """Peak RSS per role, in MiB."""
        return {
            role: {
                "peak_rss_mb": round(s.peak_rss / MB, 1),
                "peak_rss_mb_largest_process": round(s.peak_rss_process / MB, 1),
                "last_rss_mb": round(s.last_rss / MB, 1),
                "processes": s.processes,
                "pids": s.pids,
                "cmdlines": s.cmdlines,
                "peak_rss_mb_by_phase": {k: round(v / MB, 1) for k, v in s.phase_peaks.items()},
            }
            for role, s in self.stats.items()
        }


# --- Finding the processes behind a target that the benchmark did not start -------------------------------


def _listeners() -> Dict[int, Set[int]]:
    """Listening TCP port -> pids (needs permission to see other users' sockets; root sees all)."""
    ports: Dict[int, Set[int]] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid:
            ports.setdefault(conn.laddr.port, set()).add(conn.pid)
    return ports


def connection_edges(listeners: Dict[int, Set[int]]) -> Set[tuple]:
    """(client pid, server pid) for every established loopback connection between two local processes."""
    edges = set()
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_ESTABLISHED or not conn.pid or not conn.raddr:
            continue
        for server in listeners.get(conn.raddr.port, ()):
            if server != conn.pid:
                edges.add((conn.pid, server))
    return edges


def _top_of_role(pid: int, role: str) -> int:
    """The topmost ancestor of a process that still has the same role (the master of a worker pool)."""
    try:
        proc = psutil.Process(pid)
        while True:
            parent = proc.parent()
            if parent is None or role_of(parent) != role:
                return proc.pid
            proc = parent
    except psutil.Error:
        return pid


class Discovery:
    """Follow loopback connections from the target's listener while traffic flows (call observe() repeatedly)."""

    def __init__(self, target: str) -> None:
        self.port = urlparse(target).port or 80
        self.edges: Set[tuple] = set()
        self.listeners: Dict[int, Set[int]] = {}
        self.error: Optional[str] = None

    def observe(self) -> None:
        """Record the connections that exist right now."""
        try:
            self.listeners = _listeners()
            self.edges |= connection_edges(self.listeners)
        except (psutil.AccessDenied, PermissionError) as exc:
            self.error = f"cannot list sockets: {exc}"

    def roles(self) -> Dict[str, List[int]]:
        """Role -> top pids of the process trees reachable from the target."""
        reached: Set[int] = set()
        frontier = list(self.listeners.get(self.port, set()))
        while frontier:
            pid = frontier.pop()
            if pid in reached:
                continue
            # the whole family of a process (an nginx master and all its workers, say) counts as one node
            try:
                role = role_of(psutil.Process(pid))
            except psutil.Error:
                continue
            family = {p.pid for p in tree(_top_of_role(pid, role) if role else pid)} | {pid}
            reached |= family
            frontier.extend(server for client, server in self.edges if client in family and server not in reached)
        found: Dict[str, Set[int]] = {}
        for pid in reached:
            try:
                role = role_of(psutil.Process(pid))
            except psutil.Error:
                continue
            if role:
                found.setdefault(role, set()).add(_top_of_role(pid, role))
        return {role: sorted(pids) for role, pids in found.items()}


def web_candidates(rasa_ports: Iterable[int] = ()) -> List[int]:
    """Top pids of web servers (`python -m webapp`) that listen on a port.

    With rasa_ports, only those whose RASA_URL points at one of these ports (the web server of the same
    set-up, when several run on the machine).
    """
    wanted = set(rasa_ports)
    listening = set()
    try:
        for pids in _listeners().values():
            listening |= pids
    except (psutil.AccessDenied, PermissionError):
        return []
    tops = set()
    for pid in listening:
        try:
            proc = psutil.Process(pid)
            if role_of(proc) != "web":
                continue
            if wanted:
                rasa_url = proc.environ().get("RASA_URL", "http://localhost:5005")
                if (urlparse(rasa_url).port or 80) not in wanted:
                    continue
            tops.add(_top_of_role(pid, "web"))
        except (psutil.Error, OSError):
            continue
    return sorted(tops)


def listening_ports(pids: Iterable[int]) -> Set[int]:
    """Ports the process trees of these pids listen on."""
    family = {p.pid for p in families({"set-up": pids})["set-up"]}
    try:
        return {port for port, owners in _listeners().items() if owners & family}
    except (psutil.AccessDenied, PermissionError):
        return set()


def parse_pids(spec: Optional[str]) -> Dict[str, List[int]]:
    """`rasa=12,13;actions=14;web=15` -> {"rasa": [12, 13], ...}."""
    roles: Dict[str, List[int]] = {}
    if not spec:
        return roles
    for part in spec.replace(" ", "").split(";"):
        if not part:
            continue
        role, _, pids = part.partition("=")
        if role not in ROLES or not pids:
            raise ValueError(f"--pids: bad part {part!r} (roles: {', '.join(ROLES)})")
        roles[role] = [int(p) for p in pids.split(",") if p]
    return roles


def machine() -> dict:
    """The machine the numbers come from."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    memory = psutil.virtual_memory()
    return {
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_total_mb": round(memory.total / MB),
        "memory_available_mb_at_start": round(memory.available / MB),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_speed_probe_s": cpu_speed_probe(),
        "hostname": os.uname().nodename,
        "kernel": os.uname().release,
    }


def cpu_speed_probe(repeat: int = 3) -> float:
    """Seconds of the fastest of a few runs of a fixed pure-Python loop: how fast this (shared) CPU is now.

    On the development VM the same build's figures move with it (0.44 s fast, 0.55-0.65 s slow), so
    runs compare only when their probes are close.
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        sum(i * i for i in range(2_000_000))
        best = min(best, time.perf_counter() - start)
    return round(best * 5, 3)  # scaled to 10 million iterations


def now_s() -> float:
    """Monotonic seconds (shared clock for the phases)."""
    return time.monotonic()
