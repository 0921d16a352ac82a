"""One control group per sandboxed run: memory, process count, CPU quota, CPU time.

Both layouts are handled: cgroup v1 (one hierarchy per controller, e.g.
/sys/fs/cgroup/memory, .../pids, .../cpu, .../cpuacct) and cgroup v2 (one
unified hierarchy). A run's groups are made under the grader's own groups,
named autograder-<grader pid>-<run>, so groups left by a grader that was
killed can be recognised and removed by the next one.

Controllers:
    memory   limit (a run that exceeds it is killed: "exceeded the memory limit"),
             peak usage, and whether the limit was hit
    pids     how many processes the run may have at once
    cpu      a quota in cores (cpu.max / cfs_quota_us), so a run that spins many
             threads takes only its own share of the machine
    cpuacct  CPU seconds used (v1; v2 reads cpu.stat), the measure of every
             time budget
"""
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CONTROLLERS = ('memory', 'pids', 'cpu', 'cpuacct')
PERIOD_US = 100_000


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _own_paths(cgroup_file='/proc/self/cgroup'):
    """{controller or '': path of this process's group} from /proc/self/cgroup."""
    own = {}
    for line in (_read(cgroup_file) or '').splitlines():
        parts = line.split(':', 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == '':
            own[''] = path
        for name in controllers.split(','):
            own[name] = path
    return own


def own_groups(mountinfo='/proc/self/mountinfo', cgroup_file='/proc/self/cgroup',
               controllers=CONTROLLERS):
    """Where this process's own groups are: {'v1': {controller: (mount, dir)}, 'v2': ...}.

    'v2' is (mount point, directory) of the unified hierarchy or None; both as
    Paths. A mount's root field matters: a container that bind-mounts its own
    subtree (Docker on cgroup v1 without a cgroup namespace) shows the group
    as /docker/<id> in /proc/self/cgroup while the mount point *is* that
    group, so the directory is the mount point plus the path below the root.
    A group outside what is mounted is left out.
    """
    own = _own_paths(cgroup_file)
    v1, v2 = {}, None
    for line in (_read(mountinfo) or '').splitlines():
        left, _, right = line.partition(' - ')
        fields, rest = left.split(), right.split()
        if len(fields) < 5 or len(rest) < 3:
            continue
        root, point, fstype, options = fields[3], Path(fields[4]), rest[0], rest[2].split(',')
        if fstype == 'cgroup2' and v2 is None and '' in own:
            folder = _below(point, root, own[''])
            v2 = (point, folder) if folder else None
        elif fstype == 'cgroup':
            for name in controllers:
                if name in options and name in own and name not in v1:
                    folder = _below(point, root, own[name])
                    if folder:
                        v1[name] = (point, folder)
    return {'v1': v1, 'v2': v2}


def _below(point, root, path):
    """The directory of group `path` in a mount of hierarchy subtree `root`, or None."""
    root = root.rstrip('/')
    if root and path != root and not path.startswith(root + '/'):
        return None
    return point / path[len(root):].lstrip('/')


@dataclass
class RunGroup:
    """The groups of one run: directories by controller (v1) or one (v2)."""
    dirs: dict = field(default_factory=dict)
    version: int = 1

    def join_paths(self):
        """The cgroup.procs files the launcher writes its pid into."""
        return sorted({str(Path(d) / 'cgroup.procs') for d in self.dirs.values()})

    def cpu_seconds(self):
        """CPU seconds the run has used so far, or None if not measured."""
        if self.version == 2:
            # cpu.stat's usage_usec exists in every v2 group, cpu controller or not.
            text = _read(Path(next(iter(self.dirs.values()))) / 'cpu.stat') or ''
            for line in text.splitlines():
                if line.startswith('usage_usec '):
                    return int(line.split()[1]) / 1e6
            return None
        if 'cpuacct' in self.dirs:
            text = _read(Path(self.dirs['cpuacct']) / 'cpuacct.usage')
            return int(text) / 1e9 if text and text.strip().isdigit() else None
        return None

    def memory_figures(self):
        """(peak bytes or None, limit hit: bool)."""
        memory = self.dirs.get('memory')
        if memory is None:
            return None, False
        memory = Path(memory)
        if self.version == 2:
            peak = _read(memory / 'memory.peak')
            events = dict(line.split() for line in (_read(memory / 'memory.events') or '')
                          .splitlines() if len(line.split()) == 2)
            hit = int(events.get('oom_kill', 0)) > 0 or int(events.get('max', 0)) > 0
            return (int(peak) if peak and peak.strip().isdigit() else None), hit
        peak = _read(memory / 'memory.max_usage_in_bytes')
        failures = _read(memory / 'memory.failcnt')
        # failcnt can stay 0 when the limit's OOM killer fires (seen on 5.x
        # kernels); memory.oom_control's oom_kill counter does not.
        control = dict(line.split() for line in (_read(memory / 'memory.oom_control') or '')
                       .splitlines() if len(line.split()) == 2)
        kills = control.get('oom_kill', '0')
        hit = (kills.isdigit() and int(kills) > 0) or \
            bool(failures and failures.strip().isdigit() and int(failures) > 0)
        return (int(peak) if peak and peak.strip().isdigit() else None), hit

    def pids(self):
        found = set()
        for d in self.dirs.values():
            for word in (_read(Path(d) / 'cgroup.procs') or '').split():
                if word.isdigit():
                    found.add(int(word))
        return found

    def kill_and_remove(self):
        """SIGKILL every process in the groups, wait until they are gone, remove them."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)
        for d in sorted(set(self.dirs.values()), reverse=True):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still emptying
                    time.sleep(0.02)


class Cgroups:
    """The cgroup controllers this grader can use for its runs.

    Attributes:
        version: 1 or 2, or None when no usable hierarchy was found.
        controllers: the usable controllers among memory, pids, cpu, cpuacct.
        why_not: {controller: reason} for the unusable ones.
    """

    def __init__(self, mountinfo='/proc/self/mountinfo', cgroup_file='/proc/self/cgroup'):
        self.version, self.bases, self.why_not = None, {}, {}
        groups = own_groups(mountinfo, cgroup_file)
        v1 = {}
        for name in CONTROLLERS:
            if name not in groups['v1']:
                self.why_not[name] = 'no cgroup v1 hierarchy holding this process'
                continue
            base = groups['v1'][name][1]
            if os.access(base, os.W_OK):
                v1[name] = base
            else:
                self.why_not[name] = f'{base} is not writable'
        if {'memory', 'pids'} <= set(v1):
            self.version, self.bases = 1, v1
            for name in CONTROLLERS:
                if name not in v1:
                    self.why_not.setdefault(name, 'not available')
                else:
                    self.why_not.pop(name, None)
        elif groups['v2']:
            self._setup_v2(groups['v2'][1])
        self._remove_stale()

    def _setup_v2(self, own):
        """Delegate below our own group: move this process into a leaf, enable controllers.

        cgroup v2 forbids processes in a group that distributes controllers to
        children, so the grader moves itself into own/autograder-<pid>-judge
        and the runs become its siblings.
        """
        available = set((_read(own / 'cgroup.controllers') or '').split())
        wanted = {'memory', 'pids', 'cpu'} & available
        if not {'memory', 'pids'} <= wanted or not os.access(own / 'cgroup.subtree_control',
                                                             os.W_OK):
            for name in CONTROLLERS:
                self.why_not[name] = f'cgroup v2 at {own}: not delegated to this grader'
            return
        try:
            leaf = own / f'autograder-{os.getpid()}-judge'
            leaf.mkdir(exist_ok=True)
            (leaf / 'cgroup.procs').write_text(str(os.getpid()))
            enabled = set((_read(own / 'cgroup.subtree_control') or '').split())
            for name in sorted(wanted - enabled):
                (own / 'cgroup.subtree_control').write_text(f'+{name}')
        except OSError as err:
            for name in CONTROLLERS:
                self.why_not[name] = f'cgroup v2 at {own}: {err.strerror or err}'
            return
        self.version = 2
        self.bases = {name: own for name in wanted | {'cpuacct'}}
        self.why_not = {n: 'not enabled' for n in CONTROLLERS if n not in self.bases}

    @property
    def controllers(self):
        return set(self.bases)

    def available(self):
        return self.version is not None

    def _remove_stale(self):
        """Groups of graders that died: kill what is left in them and remove them."""
        for base in set(self.bases.values()):
            for stale in Path(base).glob('autograder-*'):
                parts = stale.name.split('-')
                if len(parts) >= 2 and parts[1].isdigit() and \
                        not Path(f'/proc/{parts[1]}').exists():
                    RunGroup({'any': str(stale)}, self.version).kill_and_remove()

    def create(self, tag, memory_bytes, processes, cpu_cores=None):
        """The groups of a new run, limits set; None if this host has none."""
        if not self.available():
            return None
        name = f'autograder-{os.getpid()}-{tag}'
        dirs = {}
        try:
            for controller, base in self.bases.items():
                d = Path(base) / name
                d.mkdir(exist_ok=True)
                dirs[controller] = str(d)
            group = RunGroup(dirs, self.version)
            if self.version == 2:
                d = Path(dirs['memory'])
                (d / 'memory.max').write_text(str(memory_bytes))
                if (d / 'memory.swap.max').exists():
                    (d / 'memory.swap.max').write_text('0')
                (d / 'pids.max').write_text(str(processes))
                if cpu_cores and 'cpu' in dirs:
                    (d / 'cpu.max').write_text(f'{int(cpu_cores * PERIOD_US)} {PERIOD_US}')
            else:
                Path(dirs['memory'], 'memory.limit_in_bytes').write_text(str(memory_bytes))
                Path(dirs['pids'], 'pids.max').write_text(str(processes))
                if cpu_cores and 'cpu' in dirs:
                    Path(dirs['cpu'], 'cpu.cfs_period_us').write_text(str(PERIOD_US))
                    Path(dirs['cpu'], 'cpu.cfs_quota_us').write_text(
                        str(max(1000, int(cpu_cores * PERIOD_US))))
        except OSError:
            RunGroup(dirs, self.version).kill_and_remove()
            raise
        return group
