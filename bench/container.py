"""A stand-in for Gradescope's default container: a CPU quota and a memory limit.

Gradescope runs each submission's autograder in a container with, by default,
half a CPU and 768 MB of memory. `Container` makes a control group with those
limits under this process's own groups (cgroup v1: one group in each of the
cpu, cpuacct and memory hierarchies; cgroup v2: one group with cpu.max and
memory.max), and `wrap(argv)` gives a command line that joins it before it
runs argv. Everything that command starts stays in the group: the grader's
own per-run groups are made under the grader's groups, so they nest in it
and share its limits.

    with Container(cpu_cores=0.5, memory_bytes=768 * 2**20) as box:
        subprocess.run(box.wrap(['autograder', 'grade', ...]))
        box.peak_memory()

Leaving the `with` kills whatever is still in the group and removes it (and
any group left inside it). Groups left by a benchmark that was killed are
named bench-container-<pid>-<n>; the next Container removes those whose pid
is gone.

Needs root and a writable cgroup hierarchy (cgroup v1 memory and cpu, or a
delegated cgroup v2 group); `available()` says whether this host has them,
and why not.
"""
import itertools
import os
import sys
import time
from pathlib import Path

from autograder.grading.sandbox.cgroups import RunGroup, own_groups

PERIOD_US = 100_000
PREFIX = 'bench-container-'
_counter = itertools.count(1)
# Joins the groups named on the command line, then becomes the command.
_JOIN = (
    "import os, sys\n"
    "args = sys.argv[1:]\n"
    "cut = args.index('--')\n"
    "for procs in args[:cut]:\n"
    "    with open(procs, 'w') as f:\n"
    "        f.write(str(os.getpid()))\n"
    "os.execvp(args[cut + 1], args[cut + 1:])\n"
)


class ContainerError(RuntimeError):
    """The group cannot be made on this host; the message says why."""


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _bases():
    """(version, {controller: folder under which to make the group}) or raises ContainerError.

    cgroup v1 needs the memory and cpu hierarchies (cpuacct, for the CPU
    seconds, when mounted apart); v2 a group whose subtree this process may
    delegate (cgroup.subtree_control writable, memory and cpu available).
    """
    groups = own_groups(controllers=('cpu', 'cpuacct', 'memory'))
    v1 = {name: folder for name, (_, folder) in groups['v1'].items()
          if os.access(folder, os.W_OK)}
    if {'cpu', 'memory'} <= set(v1):
        return 1, v1
    if groups['v2']:
        base = groups['v2'][1]
        controllers = set((_read(base / 'cgroup.controllers') or '').split())
        if {'cpu', 'memory'} <= controllers and os.access(base / 'cgroup.subtree_control',
                                                          os.W_OK):
            return 2, {'v2': base}
    raise ContainerError(
        "no writable cgroup hierarchy with the cpu and memory controllers (cgroup v1 "
        "memory and cpu under this process's groups, or a delegated cgroup v2 group); "
        "the Gradescope simulation needs root on such a host")


def available():
    """(True, '') when a Container can be made here, else (False, the reason)."""
    if os.geteuid() != 0:
        return False, "not root: cannot make control groups"
    try:
        _bases()
    except ContainerError as err:
        return False, str(err)
    return True, ''


def _pids_in(folder):
    """pids of every process in a group folder and in the groups below it."""
    found = set()
    for procs in Path(folder).rglob('cgroup.procs'):
        for word in (_read(procs) or '').split():
            if word.isdigit():
                found.add(int(word))
    return found


def _remove_tree(folder):
    """SIGKILL everything in a group and its subgroups, then remove them, deepest first."""
    folder = Path(folder)
    if folder.is_dir():
        tree = [folder, *(p for p in folder.rglob('*') if p.is_dir())]
        RunGroup({str(p): str(p) for p in tree}).kill_and_remove()


def remove_stale():
    """Remove groups left by benchmarks that died (their pid is gone); returns how many."""
    try:
        _, bases = _bases()
    except ContainerError:
        return 0
    removed = 0
    for base in set(bases.values()):
        for group in Path(base).glob(f'{PREFIX}*'):
            pid = group.name[len(PREFIX):].split('-')[0]
            if pid.isdigit() and not Path(f'/proc/{pid}').exists():
                _remove_tree(group)
                removed += 1
    return removed


class Container:
    """A control group with a CPU quota and a memory limit (see the module's docstring).

    Args:
        cpu_cores: the CPU quota in cores (0.5: 50 ms of CPU time per 100 ms).
        memory_bytes: the memory limit (memory and swap together, where the host
            has swap accounting).

    Attributes:
        version: 1 or 2.
        dirs: {controller: group folder} (v2: {'v2': folder}).
    """

    def __init__(self, cpu_cores=0.5, memory_bytes=768 * 2**20):
        if os.geteuid() != 0:
            raise ContainerError("not root: cannot make control groups")
        self.cpu_cores, self.memory_bytes = cpu_cores, memory_bytes
        self.version, bases = _bases()
        self.name = f'{PREFIX}{os.getpid()}-{next(_counter)}'
        self.dirs = {}
        remove_stale()
        try:
            for controller, base in bases.items():
                folder = Path(base) / self.name
                folder.mkdir()
                self.dirs[controller] = folder
            self._set_limits()
        except OSError as err:
            self.close()
            raise ContainerError(f"cannot make the group {self.name}: {err}") from None

    def _set_limits(self):
        quota = max(1000, int(self.cpu_cores * PERIOD_US))
        if self.version == 2:
            folder = self.dirs['v2']
            parent = folder.parent
            enabled = set((_read(parent / 'cgroup.subtree_control') or '').split())
            for name in ('cpu', 'memory'):
                if name not in enabled:
                    (parent / 'cgroup.subtree_control').write_text(f'+{name}')
            (folder / 'cpu.max').write_text(f'{quota} {PERIOD_US}')
            (folder / 'memory.max').write_text(str(self.memory_bytes))
            if (folder / 'memory.swap.max').exists():
                (folder / 'memory.swap.max').write_text('0')
            return
        cpu, memory = self.dirs['cpu'], self.dirs['memory']
        (cpu / 'cpu.cfs_period_us').write_text(str(PERIOD_US))
        (cpu / 'cpu.cfs_quota_us').write_text(str(quota))
        (memory / 'memory.limit_in_bytes').write_text(str(self.memory_bytes))
        if (memory / 'memory.memsw.limit_in_bytes').exists():  # after the memory limit
            (memory / 'memory.memsw.limit_in_bytes').write_text(str(self.memory_bytes))

    def wrap(self, argv):
        """argv preceded by a small Python program that joins this group, then execs argv."""
        procs = sorted({str(d / 'cgroup.procs') for d in self.dirs.values()})
        return [sys.executable, '-I', '-S', '-c', _JOIN, *procs, '--', *map(str, argv)]

    def _memory_dir(self):
        return self.dirs.get('memory') or self.dirs.get('v2')

    def peak_memory(self):
        """The group's largest memory charge so far (bytes; page cache included), or None.

        cgroup v2 kernels before 5.19 have no memory.peak: None there.
        """
        folder = self._memory_dir()
        text = _read(folder / ('memory.max_usage_in_bytes' if self.version == 1
                               else 'memory.peak'))
        return int(text) if text and text.strip().isdigit() else None

    def memory_now(self):
        """The group's memory charge now (bytes)."""
        folder = self._memory_dir()
        text = _read(folder / ('memory.usage_in_bytes' if self.version == 1
                               else 'memory.current'))
        return int(text) if text and text.strip().isdigit() else 0

    def memory_stat(self):
        """{name: bytes} of the group's memory.stat, its subgroups included: rss (anonymous
        memory), cache (page cache, tmpfs included), shmem, mapped_file (v1 names; v2's
        anon and file are reported as rss and cache)."""
        folder = self._memory_dir()
        stat = {}
        for line in (_read(folder / 'memory.stat') or '').splitlines():
            key, _, value = line.partition(' ')
            if value.strip().isdigit():
                stat[key] = int(value)
        if self.version == 1:
            return {k[len('total_'):]: v for k, v in stat.items() if k.startswith('total_')}
        return dict(stat, rss=stat.get('anon', 0), cache=stat.get('file', 0))

    def limit_hit(self):
        """How many times the memory limit was reached (v1 failcnt; v2 the 'max' events).

        Some v1 kernels leave failcnt at 0 even when the limit ends in an OOM
        kill (seen on 6.18): see oom_kills() too.
        """
        folder = self._memory_dir()
        if self.version == 1:  # memory+swap has its own counter (the limit set on both)
            counts = [_read(folder / name) for name in ('memory.failcnt',
                                                        'memory.memsw.failcnt')]
            return sum(int(t) for t in counts if t and t.strip().isdigit())
        events = dict(line.split() for line in (_read(folder / 'memory.events') or '')
                      .splitlines() if len(line.split()) == 2)
        return int(events.get('max', 0))

    def oom_kills(self):
        """Processes the kernel killed for want of memory in this group (None if unknown)."""
        folder = self._memory_dir()
        if self.version == 1:
            for line in (_read(folder / 'memory.oom_control') or '').splitlines():
                if line.startswith('oom_kill '):
                    return int(line.split()[1])
            return None
        events = dict(line.split() for line in (_read(folder / 'memory.events') or '')
                      .splitlines() if len(line.split()) == 2)
        return int(events['oom_kill']) if 'oom_kill' in events else None

    def cpu_seconds(self):
        """CPU seconds used by everything that ran in the group (None if not measured)."""
        if self.version == 2:
            for line in (_read(self.dirs['v2'] / 'cpu.stat') or '').splitlines():
                if line.startswith('usage_usec '):
                    return int(line.split()[1]) / 1e6
            return None
        folder = self.dirs.get('cpuacct')
        text = _read(folder / 'cpuacct.usage') if folder else None
        return int(text) / 1e9 if text and text.strip().isdigit() else None

    def throttled_seconds(self):
        """Seconds the group's processes were held back by the CPU quota (None if unknown)."""
        folder = self.dirs.get('cpu') or self.dirs.get('v2')
        for line in (_read(folder / 'cpu.stat') or '').splitlines():
            key, _, value = line.partition(' ')
            if key == 'throttled_time' and value.strip().isdigit():  # v1: nanoseconds
                return int(value) / 1e9
            if key == 'throttled_usec' and value.strip().isdigit():  # v2
                return int(value) / 1e6
        return None

    def pids(self):
        """pids of every process now in the group or below it."""
        return set().union(*(_pids_in(d) for d in self.dirs.values())) if self.dirs else set()

    def close(self):
        """Kill whatever is left in the group and remove it, subgroups first."""
        for folder in self.dirs.values():
            _remove_tree(folder)
        self.dirs = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _status_kib(pid, keys=('RssAnon', 'RssFile', 'RssShmem')):
    """{key: bytes} from /proc/PID/status, or None if the process is gone."""
    try:
        text = Path(f'/proc/{pid}/status').read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(':')
        if key in keys:
            out[key] = int(rest.split()[0]) * 1024
    return out


def _cmdline(pid):
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode(
            errors='replace').strip()
    except OSError:
        return ''


class MemoryWatch:
    """Samples a Container's memory in a thread while a command runs in it.

    The kernel's own peak (Container.peak_memory) says how close the group came
    to its limit; this says who held the memory then. Every `interval` seconds
    it reads the group's charge, the charge of the subgroups the grader made
    for its sandboxed runs (autograder-* folders: student code), and the
    resident memory of each process in the group.

    Attributes (after stop()):
        peak: the largest charge seen (bytes).
        at_peak: {'seconds', 'runs' (bytes charged to sandboxed runs),
            'stat' (memory.stat then), 'processes' ([(cmdline, RssAnon, RssFile)])}.
        peak_runs: the largest charge of the sandboxed runs' subgroups together.
        peak_rest: the largest charge outside them (the grader, its reference
            runs, their page cache).
        peak_rest_beside_runs: the same, while at least one sandboxed run was
            charged (what a student's run shares the container with).
        grader_anon: the largest RssAnon of a process whose command line holds
            `marker` (the grader itself).
        timeline: [(seconds, charge, runs' charge, grader's RssAnon)], one per sample.
    """

    def __init__(self, box, marker='-m autograder', interval=0.05):
        import threading

        self.box, self.marker, self.interval = box, marker, interval
        self.peak = self.peak_runs = self.peak_rest = self.grader_anon = 0
        self.peak_rest_beside_runs = 0
        self.at_peak = {}
        self.timeline = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._start = time.monotonic()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _runs_charge(self):
        folder = self.box._memory_dir()
        total = 0
        for group in folder.glob('autograder-*'):
            name = 'memory.usage_in_bytes' if self.box.version == 1 else 'memory.current'
            text = _read(group / name)
            if text and text.strip().isdigit():
                total += int(text)
        return total

    def _loop(self):
        while not self._stop.is_set():
            now = self.box.memory_now()
            runs = self._runs_charge()
            self.peak_runs = max(self.peak_runs, runs)
            self.peak_rest = max(self.peak_rest, now - runs)
            if runs:
                self.peak_rest_beside_runs = max(self.peak_rest_beside_runs, now - runs)
            processes, grader = [], 0
            for pid in self.box.pids():
                status = _status_kib(pid)
                if status is None:
                    continue
                cmdline = _cmdline(pid)
                if self.marker in cmdline:
                    grader = max(grader, status.get('RssAnon', 0))
                processes.append((cmdline[:160], status.get('RssAnon', 0),
                                  status.get('RssFile', 0)))
            self.grader_anon = max(self.grader_anon, grader)
            self.timeline.append((time.monotonic() - self._start, now, runs, grader))
            if now > self.peak:
                self.peak = now
                self.at_peak = {'seconds': time.monotonic() - self._start, 'runs': runs,
                                'stat': self.box.memory_stat(),
                                'processes': sorted(processes, key=lambda p: -p[1])}
            self._stop.wait(self.interval)
