"""CPU time and CPU wait of a sandboxed run, read from /proc.

Budgets are in CPU seconds, so a busy machine cannot make a correct run
look slow. Where the run has a cgroup, its CPU time comes from there (every
process it ever started counted); otherwise from the process tree under the
launcher, here (ReapedTreeCpu: the launcher reaps every orphan, so the tree
holds every process the run started, alive or in a reaper's count). The
wait figure (time a runnable thread spent queued for a
CPU, /proc/PID/task/TID/schedstat) tells a starved run from one that slept:
when the wall-clock backstop ends a run that used little CPU, a large wait
means the machine was overloaded, a small one that the code waited on
something (sleep, a lock, input()).
"""
import os
from pathlib import Path

_TICK = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _children(pid):
    kids = []
    for task in (Path(f'/proc/{pid}/task').iterdir() if Path(f'/proc/{pid}/task').is_dir()
                 else ()):
        text = _read(task / 'children')
        if text:
            kids.extend(int(word) for word in text.split())
    return kids


def tree(root_pid, limit=4096):
    """PIDs of root_pid and its live descendants (at most `limit`)."""
    seen, todo = [], [root_pid]
    while todo and len(seen) < limit:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        try:
            todo.extend(_children(pid))
        except OSError:
            continue
    return seen


def _stat_cpu(pid):
    """utime + stime of one process (all its threads) in seconds, or 0 if gone."""
    text = _read(f'/proc/{pid}/stat')
    if not text:
        return 0.0
    fields = text[text.rfind(')') + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # stat(5) fields 14 and 15


def _wait_seconds(pid):
    total = 0.0
    task_dir = Path(f'/proc/{pid}/task')
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        text = _read(task / 'schedstat')
        if text:
            parts = text.split()
            if len(parts) >= 2:
                total += int(parts[1]) / 1e9
    return total


class TreeUsage:
    """Accumulated CPU and wait seconds of a process tree, sampled over its life.

    Each process counts with its own time as last sampled (children's time
    is not taken from their parents' cutime, which would count it twice), so
    a process that ends between samples loses at most one sampling interval.
    """

    def __init__(self, root_pid):
        self.root = root_pid
        self._cpu = {}
        self._wait = {}

    def sample(self):
        for pid in tree(self.root):
            self._cpu[pid] = max(self._cpu.get(pid, 0.0), _stat_cpu(pid))
            self._wait[pid] = max(self._wait.get(pid, 0.0), _wait_seconds(pid))
        return self.cpu_seconds(), self.wait_seconds()

    def cpu_seconds(self):
        return sum(self._cpu.values())

    def wait_seconds(self):
        return sum(self._wait.values())


def _times(pid):
    """(own, reaped) CPU seconds of one process: utime + stime, cutime + cstime.

    The second is the time of the children it has waited for, theirs
    included. (0, 0) if the process is gone.
    """
    text = _read(f'/proc/{pid}/stat')
    if not text:
        return 0.0, 0.0
    fields = text[text.rfind(')') + 2:].split()
    try:
        own = (int(fields[11]) + int(fields[12])) / _TICK   # stat(5) fields 14 and 15
        reaped = (int(fields[13]) + int(fields[14])) / _TICK  # fields 16 and 17
    except (IndexError, ValueError):
        return 0.0, 0.0
    return own, max(reaped, 0.0)


class ReapedTreeCpu:
    """CPU seconds of everything a run started, for a run without a cgroup.

    The root must reap whatever is orphaned below it (the launcher is a
    child subreaper, or a PID namespace's init is in the tree), so no process
    of the run ever leaves the tree: a double-forked process is reparented
    to the root, not to the host's init. Then each CPU second is in exactly
    one place at any moment: in the own time of a live (or zombie) process
    of the tree, or in the reaped time of the process that waited for it.
    The sum of both over the tree, read parents first (a process reaped
    between the two reads is missed once, never counted twice), is the run's
    whole CPU time; samples only ever raise the figure.
    """

    def __init__(self, root_pid):
        self.root = root_pid
        self._seconds = 0.0

    def sample(self):
        total = 0.0
        for pid in tree(self.root):  # parents before their children
            own, reaped = _times(pid)
            total += own + reaped
        self._seconds = max(self._seconds, total)
        return self._seconds
