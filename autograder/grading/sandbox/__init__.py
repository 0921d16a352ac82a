"""Run untrusted commands in isolated child processes and collect what they return.

The judge calls `Sandbox.run` with a command, the host folders it may see
and a time budget per answer; it gets back a `RunResult`: how the command
ended, the first bytes of its output, the answers (frames) it wrote on its
payload descriptor, and the CPU time, wall time and CPU wait of each. The
command never shares memory, files or descriptors with the judge beyond
those.

Isolation is layered. `launcher.py` applies, in the child, every step the
host allows (see STEP_NAMES). `Sandbox.detect()` measures once, by a real run
with every step optional, which steps this host allows; later runs require
exactly those steps, so no run is weaker than reported. Each run gets:

- a time budget per answer in CPU seconds, so a busy machine cannot make a
  correct run look slow, and a generous wall-clock backstop (the run's
  process group is killed when either runs out; see Budget);
- its own control group where the host allows (memory, processes, a CPU
  quota so that a run spinning many threads only slows itself);
- a scrubbed environment, a fresh private working folder, and one BLAS
  thread unless told otherwise.

Afterwards everything still running in its group, its process group or as
its uid is killed, and whatever the run created in the host's shared
temporary folders or System V IPC (where no private view or IPC namespace
hid them) is removed (leftovers.py). Uids are claimed host-wide (uids.py),
so that kill never reaches another grader's runs, and a uid that already
owns files there is not claimed.

Without a control group and namespaces (a Docker-default container), a run
is still kept apart from its neighbours: its CPU time counts every process
it started, double-forked ones included (the launcher reaps orphans, step
'reaper'); what it holds on disk is measured while it runs and capped
(Limits.disk_bytes, disk_entries); and confine() closes the grader's own
folders to every other sandbox user. A host that can count a run's CPU
neither by a control group, nor a PID namespace, nor the reaper is refused.
"""
import json
import os
import selectors
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ... import paths
from . import cgroups, leftovers, uids
from .load import busy_seconds
from .usage import ReapedTreeCpu, TreeUsage, tree as process_tree

LAUNCHER = Path(__file__).resolve().parent / 'launcher.py'
ALL_STEPS = ('cgroup', 'net', 'ipc', 'pid', 'reaper', 'mount', 'rlimits', 'user',
             'nonewprivs', 'seccomp')
STEP_NAMES = {
    'cgroup': 'control group (memory, process count, CPU quota and CPU time)',
    'net': 'no network (private network namespace)',
    'ipc': 'private IPC namespace',
    'pid': 'private PID namespace (descendants die with the run)',
    'reaper': ("the launcher reaps the run's orphans (a double-forked process stays in the "
               "run: its CPU time counted, killed at the end)"),
    'mount': 'private filesystem view (kit, hidden tests, reference, labels, results absent)',
    'rlimits': 'rlimits (address space, processes, file size, open files, CPU time)',
    'user': 'unprivileged user',
    'nonewprivs': 'no_new_privs',
    'seccomp': 'seccomp filter (no keyring, ptrace, mount, namespaces, bpf; without a '
               'network namespace, local sockets only)',
    'kit-closed': 'the kit\'s hidden parts closed to other users (chmod o-rwx)',
}
# A frame that starts with this byte is progress, not an answer: the judge
# reads it while the run goes on (sessions of training report each epoch) and
# may reply on the run's control descriptor; it neither counts as an answer
# nor restarts the answer's budget. At most MAX_PROGRESS of them are read.
PROGRESS = b'\x01'
MAX_PROGRESS = 64
# A run whose processes neither compute nor wait for a CPU for this long
# (sleeping, blocked on a lock or a pipe) is stopped: it would only wait for
# its wall-clock backstop.
IDLE_SECONDS = 30.0
SYSTEM_DIRS = ('/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc')
WORK = '/sandbox/work'
# Seconds between two measures of what a run holds on disk; between them, a
# drop of the free space of the folders it may write by DISK_SLACK of its
# disk_bytes triggers one at once (statfs is cheap, the walk is not).
DISK_INTERVAL = 0.5
DISK_SLACK = 0.25
# Steps any one of which lets the judge count every CPU second of a run.
CPU_COUNTED = ('cgroup', 'pid', 'reaper')
# Folders of the kit that student code must never read; without a private
# filesystem view they are closed to other users instead.
HIDDEN_PARTS = ('autograder', 'solutions', 'data', 'build', '.git', 'written', 'tests')


class SandboxError(Exception):
    """The sandbox itself cannot run (not a student's fault)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run.

    The address-space limit sits below the cgroup's memory limit, so a memory
    bomb usually ends in a MemoryError the student can read about rather than
    a kill. cpu_cores is the run's CPU quota (None: no quota); disk_bytes
    and disk_entries what it may hold on the host's disk (in its own
    folders, writable mounts and, without a private root, the shared temp
    folders; files it deleted but keeps open included), measured every
    DISK_INTERVAL seconds; idle_seconds how long a run may neither compute
    nor wait for a CPU; patience and wall_floor make each budget's
    wall-clock backstop (Budget.for_cpu).
    """
    memory_bytes: int = 3 * 2**30
    address_space_bytes: int = 5 * 2**29
    processes: int = 64
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    output_bytes: int = 64 * 2**10
    payload_bytes: int = 64 * 2**20
    tmp_bytes: int = 256 * 2**20
    disk_bytes: int = 256 * 2**20
    disk_entries: int = 10_000
    blas_threads: int = 1
    cpu_cores: object = None
    idle_seconds: float = IDLE_SECONDS
    patience: float = 10.0
    wall_floor: float = 60.0


@dataclass(frozen=True)
class Budget:
    """The time one answer may take: CPU seconds, a wall-clock backstop, and patience.

    idle: seconds a run may neither compute nor wait for a CPU before it is
    stopped (None: never, e.g. a notebook kernel waiting for its next cell).
    """
    cpu: float
    wall: float
    idle: object = IDLE_SECONDS

    @classmethod
    def for_cpu(cls, cpu, limits=None):
        """A budget whose backstop lets the run take `patience` times its CPU time.

        The backstop is max(patience x cpu, cpu + wall_floor) seconds (Limits):
        a run that merely waits its turn on a busy machine gets through; a
        run stopped by the backstop with little CPU used is examined by the
        judge (overloaded machine, or code that sleeps).
        """
        limits = limits or Limits()
        return cls(float(cpu), float(max(cpu * limits.patience, cpu + limits.wall_floor)),
                   limits.idle_seconds)


def run_environment(home, tmp, blas_threads):
    """The whole environment a run starts from (the caller adds its own variables).

    Scrubbed: nothing of the grader's environment passes, so a run behaves
    the same whoever started the grader; BLAS uses blas_threads threads.
    """
    threads = str(blas_threads)
    return {
        'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': str(home), 'TMPDIR': str(tmp),
        'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8', 'PYTHONHASHSEED': '0',
        'PYTHONDONTWRITEBYTECODE': '1', 'PYTHONUNBUFFERED': '1', 'MPLBACKEND': 'Agg',
        'MPLCONFIGDIR': f'{home}/.matplotlib', 'OPENBLAS_NUM_THREADS': threads,
        'OMP_NUM_THREADS': threads, 'MKL_NUM_THREADS': threads,
    }


@dataclass(frozen=True)
class Mount:
    """A host folder the command may see, at `inside` (default /sandbox/<name>).

    An `inside` below WORK appears in the command's working folder (e.g. a
    ./data folder a student's code opens by a relative path).
    """
    host: str
    inside: str = ''
    writable: bool = False

    def path_inside(self):
        return self.inside or f'/sandbox/{Path(self.host).name}'


@dataclass
class Usage:
    """What one answer (frame) cost, and what the rest of the machine did meanwhile.

    others: CPU seconds every other process of the machine used over the same
    wall time (load.py), None where /proc/stat cannot be read.
    """
    cpu: float = 0.0
    wall: float = 0.0
    wait: float = 0.0
    others: object = None


@dataclass
class RunResult:
    """What one sandboxed run did.

    Attributes:
        exit_code: the command's exit status, or None if it was killed.
        signal: the signal that ended it, if any.
        limit: why the judge ended it: 'cpu' or 'wall' (a frame's budget),
            'idle' (neither computing nor waiting for a CPU for IDLE_SECONDS),
            'memory' (the cgroup's limit), 'output' (payload over its cap),
            'disk' (held more than Limits.disk_bytes or disk_entries on disk),
            'deadline' (the run's deadline, see run()), or None.
        output: the first Limits.output_bytes of stdout and stderr.
        frames: the complete answers, in order.
        usage: Usage of each complete frame, then of the frame in progress
            when the run ended (so len(usage) == len(frames) + 1).
        peak_memory: the control group's peak memory in bytes, when measured.
        seconds: wall time of the whole run.
        disk: (bytes, entries, nested too deep) it held on disk when last measured.
    """
    exit_code: object = None
    signal: object = None
    limit: object = None
    output: bytes = b''
    frames: list = field(default_factory=list)
    usage: list = field(default_factory=list)
    peak_memory: object = None
    seconds: float = 0.0
    disk: tuple = (0, 0, False)

    def failure(self):
        """Why the run did not end normally, in words; None if it did."""
        last = self.usage[-1] if self.usage else Usage()
        if self.limit == 'cpu':
            return f"used more than its budget of CPU time ({last.cpu:.1f} s)"
        if self.limit == 'wall':
            return f"ran out of time ({last.wall:.0f} s, {last.cpu:.1f} s of CPU)"
        if self.limit == 'deadline':
            return "was stopped: the grading's time limit ran out"
        if self.limit == 'idle':
            return (f"waited {last.wall:.0f} s without computing (a sleep, input(), a lock, "
                    f"a pipe?)")
        if self.limit == 'memory':
            return "exceeded the memory limit"
        if self.limit == 'output':
            return "returned more data than allowed"
        if self.limit == 'disk':
            return (f"held more on disk than allowed ({self.disk[0] / 2**20:.0f} MiB in "
                    f"{self.disk[1]} files and folders"
                    + (", folders nested too deep" if self.disk[2] else "") + ")")
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = str(self.signal)
            if self.signal == signal.SIGXCPU:
                return "used more than its budget of CPU time (SIGXCPU)"
            return f"was killed by signal {name}"
        if self.exit_code not in (0, None):
            return f"exited with status {self.exit_code}"
        return None


@dataclass
class Protections:
    """The isolation steps in force, measured on this host."""
    done: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)

    def lines(self):
        out = [f"in force: {STEP_NAMES[s]}" for s in (*ALL_STEPS, 'kit-closed')
               if s in self.done]
        out += [f"not available: {STEP_NAMES.get(s, s)} ({why})"
                for s, why in self.skipped.items()]
        return out


def python_dirs():
    """Folders the interpreter needs, outside the system folders and the kit."""
    kit = paths.kit_root()
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    candidates.update(site.getsitepackages())
    dirs = []
    for d in sorted({os.path.realpath(c) for c in candidates if os.path.isdir(c)}):
        if any(d == s or d.startswith(s + '/') for s in SYSTEM_DIRS):
            continue  # bound anyway
        if Path(d) == kit or Path(d) in kit.parents:
            continue  # binding it would expose the kit (a venv inside the kit is fine)
        if any(d.startswith(p + '/') for p in dirs):
            continue
        dirs.append(d)
    return dirs


def hidden_paths():
    """What student code must never read: the kit's hidden parts, the judge's cache, MNIST."""
    kit = paths.kit_root()
    return [*(kit / name for name in HIDDEN_PARTS), paths.cache_dir(), paths.data_dir()]


def _disabled_steps():
    disabled = set(filter(None, os.environ.get('AUTOGRADER_SANDBOX_DISABLE', '').split(',')))
    unknown = disabled - set(ALL_STEPS)
    if unknown:
        raise SandboxError(f"AUTOGRADER_SANDBOX_DISABLE: unknown step(s) "
                           f"{', '.join(sorted(unknown))}; valid: {', '.join(ALL_STEPS)}")
    return disabled


class Sandbox:
    """Runs commands isolated from the judge; one instance per grading worker.

    Args:
        workdir: a folder private to the judge (made 0o711: the sandbox user
            may pass through it to its own run folders, not list it).
        slot: the worker's number; it picks where the uid search starts.
        limits: resource limits of every run.
        trusted: run without isolation (only for the reference solution).

    Call close() (or use it as a context manager) to release the uid.
    """

    def __init__(self, workdir, slot=0, limits=Limits(), trusted=False):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o711)
        self.limits = limits
        self.trusted = trusted
        self.is_root = os.geteuid() == 0
        self._claim = None
        if self.is_root and not trusted:
            try:
                # A uid owning files or IPC objects already (a grader killed mid-run,
                # a user of the host) is passed over: nothing it owns is ever removed.
                self._claim = uids.claim(slot, busy=leftovers.owns_anything)
            except uids.UidError as err:
                raise SandboxError(str(err)) from None
        self.uid = self._claim.uid if self._claim else None
        self.cgroups = cgroups.Cgroups() if self.is_root and not trusted else None
        self._runs = 0
        self._protections = None

    def close(self):
        if self._claim is not None:
            self._sweep_uid()  # every run cleaned after itself; nothing else is removed
            self._claim.close()
            self._claim = None

    def confine(self, folder):
        """Make folder passable by this sandbox's uid and by nobody else but its owner.

        The folder gets the uid's group and mode 0710: the grader's working
        folders inside it (each submission's package and inputs, the data
        folders) are then out of reach of every other sandbox uid, e.g. a
        neighbour worker's run that read their paths in /proc/PID/cmdline.
        A grader that is not root has no sandbox uid: nothing changes.
        """
        if self.uid is None:
            return
        os.chown(folder, -1, self.uid, follow_symlinks=False)
        os.chmod(folder, 0o710)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- what this host allows -------------------------------------------------
    def detect(self):
        """The protections in force, measured once by a real run with every step optional.

        Raises:
            SandboxError: Python does not start in the sandbox, or the grader
                is root and cannot drop to an unprivileged user.
        """
        if self._protections is not None:
            return self._protections
        if self.trusted:
            self._protections = Protections()
            return self._protections
        disabled = _disabled_steps()
        wanted = [s for s in ALL_STEPS if s not in disabled]
        reasons = {s: 'disabled by AUTOGRADER_SANDBOX_DISABLE' for s in ALL_STEPS
                   if s in disabled}
        if self.uid is None and 'user' in wanted:
            wanted.remove('user')
            reasons['user'] = "the grader is not root: student code runs as the grader's user"
        if 'cgroup' in wanted and not (self.cgroups and self.cgroups.available()):
            wanted.remove('cgroup')
            reasons['cgroup'] = ('no writable memory and pids cgroups' if self.is_root
                                 else 'the grader is not root')
        result, report = self._launch([sys.executable, '-I', '-S', '-c', 'import sys'], {},
                                      [Budget(30, 60)], wanted, required=False)
        if report is None or report.get('exec_error'):
            raise SandboxError("the sandbox could not start Python: "
                               + (report or {}).get('exec_error', '') + " "
                               + (result.output.decode(errors='replace').strip()
                                  or result.failure() or "no report"))
        protections = Protections(list(report['done']), {**reasons, **report['skipped']})
        if self.is_root and 'user' not in protections.done:
            raise SandboxError("running as root but cannot drop to an unprivileged user; "
                               "refusing to run student code as root")
        if not any(step in protections.done for step in CPU_COUNTED):
            raise SandboxError("cannot count the CPU time of every process a run starts (no "
                               "control group, PID namespace or child subreaper here): "
                               "refusing to grade with budgets a forked process escapes; "
                               + '; '.join(f"{s}: {protections.skipped.get(s, 'not tried')}"
                                           for s in CPU_COUNTED))
        if result.failure():
            raise SandboxError("Python does not start inside the sandbox ("
                               + result.failure() + "): " +
                               result.output.decode(errors='replace').strip()[-500:] +
                               ("" if 'mount' in protections.done else
                                " -- without a private filesystem view the sandbox user "
                                "must be able to read the Python installation"))
        if 'mount' not in protections.done:
            self._close_hidden_parts(protections)
        self._protections = protections
        return protections

    def _close_hidden_parts(self, protections):
        """Without a private root, other users must not be able to read the kit's secrets."""
        if self.uid is None:
            protections.skipped['kit-closed'] = (
                "the grader is not root: student code runs as the grader's own user and "
                "can read what it can read")
            return
        closed = []
        for path in hidden_paths():
            try:
                mode = path.stat().st_mode
            except OSError:
                continue
            if mode & 0o007:
                os.chmod(path, mode & ~0o007)
            closed.append(path)
        protections.done.append('kit-closed')
        STEP_NAMES['kit-closed'] = ("the kit's hidden parts closed to other users "
                                    f"(chmod o-rwx: {', '.join(str(p) for p in closed)})")

    # -- one run ---------------------------------------------------------------
    def run(self, argv, mounts=(), env=None, budgets=(Budget(60, 120),), cwd=None,
            deadline=None, on_progress=None):
        """Run argv isolated; paths in argv and env under a mount are translated.

        Args:
            argv: the command; argv[0] should be sys.executable for Python.
            mounts: Mount()s the command may see.
            env: extra environment variables.
            budgets: one Budget per answer (frame) the command is expected to
                write; each is counted from the previous frame (or the start).
                The run stops at the first answer over budget.
            cwd: the command's folder: a mount's path inside, the same path as on
                the host (default: a fresh private working folder).
            deadline: time.monotonic() value at which the run is stopped whatever
                its budgets (limit 'deadline'; None: no such limit).
            on_progress: called as on_progress(payload, frames) with the bytes
                of each progress frame (after PROGRESS) as it arrives and the
                number of answer frames before it; what it returns (bytes, or
                None) is written to the command's control descriptor, whose
                number the command finds in $SANDBOX_CONTROL_FD.

        Returns:
            RunResult.

        Raises:
            SandboxError: a step that worked at detection fails now, or the
                command cannot start.
        """
        steps = [s for s in self.detect().done if s in ALL_STEPS] if not self.trusted else []
        result, report = self._launch(argv, dict(env or {}), list(budgets), steps,
                                      required=True, mounts=mounts, cwd=cwd,
                                      deadline=deadline, on_progress=on_progress)
        if report is None and not self.trusted and result.exit_code == 125:
            raise SandboxError("a sandbox step that worked before failed: "
                               + result.output.decode(errors='replace').strip()[-500:])
        if report and report.get('exec_error'):
            raise SandboxError(report['exec_error'])
        return result

    def _binds_and_translation(self, mounts, private):
        binds, translate, links = [], {}, []
        if private:
            for d in SYSTEM_DIRS:
                if os.path.isdir(d) and not os.path.islink(d):
                    binds.append([d, d, False])
            binds += [[d, d, False] for d in python_dirs()]
        for mount in mounts:
            inside = mount.path_inside()
            if private:
                binds.append([str(mount.host), inside, bool(mount.writable)])
                translate[str(mount.host)] = inside
            elif inside.startswith(WORK + '/'):
                links.append((inside[len(WORK) + 1:], str(mount.host)))
        return binds, translate, links

    def _launch(self, argv, env, budgets, steps, required, mounts=(), cwd=None,
                deadline=None, on_progress=None):
        self._runs += 1
        run_dir = Path(tempfile.mkdtemp(prefix=f'run{self._runs}-', dir=self.workdir))
        os.chmod(run_dir, 0o711)  # the sandbox user passes through to work/
        private = 'mount' in steps or not required  # detection may get a private root
        binds, translate, links = self._binds_and_translation(mounts, 'mount' in steps
                                                              or not required)
        fallback = run_dir / 'work'
        fallback.mkdir(mode=0o700)
        for rel, host in links:
            (fallback / rel).parent.mkdir(parents=True, exist_ok=True)
            (fallback / rel).symlink_to(host)
        if self.uid is not None:
            for path in [fallback, *fallback.rglob('*')]:
                os.lchown(path, self.uid, self.uid)

        def inside(value):
            for host, mapped in translate.items():
                if value == host or value.startswith(host + '/'):
                    return mapped + value[len(host):]
            return value

        home = WORK if 'mount' in steps else str(fallback)
        child_env = run_environment(home, '/tmp' if 'mount' in steps else str(fallback),
                                    self.limits.blas_threads)
        child_env.update({k: inside(str(v)) for k, v in env.items()})
        payload_r, payload_w = os.pipe()
        status_r, status_w = os.pipe()
        child_env['SANDBOX_PAYLOAD_FD'] = str(payload_w)
        control = os.pipe() if on_progress else None
        if control:
            child_env['SANDBOX_CONTROL_FD'] = str(control[0])
            os.set_blocking(control[1], False)
        group = None
        if 'cgroup' in steps:
            try:
                group = self.cgroups.create(self._runs, self.limits.memory_bytes,
                                            self.limits.processes, self.limits.cpu_cores)
            except OSError as err:
                for fd in (payload_r, payload_w, status_r, status_w):
                    os.close(fd)
                shutil.rmtree(run_dir, ignore_errors=True)
                raise SandboxError(f"cannot create the run's control group: {err}") from None
        limits = self.limits
        total_cpu = sum(b.cpu for b in budgets)
        spec = {
            'argv': [inside(a) for a in argv], 'env': child_env, 'cwd': cwd or WORK,
            'fallback_cwd': cwd or str(fallback), 'parent': os.getpid(),
            'status_fd': status_w, 'steps': steps, 'required': required,
            'uid': self.uid, 'gid': self.uid,
            'rlimits': {'AS': limits.address_space_bytes, 'NPROC': self._nproc(),
                        'FSIZE': limits.file_bytes, 'NOFILE': limits.open_files, 'CORE': 0,
                        'CPU': int(total_cpu) + 5},
            'cgroups': group.join_paths() if group else [],
            'root': str(run_dir / 'root'), 'binds': binds,
            'tmpfs': [['/tmp', limits.tmp_bytes], [WORK, limits.tmp_bytes]],
        }
        if private:
            os.mkdir(run_dir / 'root', 0o700)
        # The spec goes in a file only the judge reads, not on the command line
        # (world-readable in /proc; see launcher.py).
        spec_file = run_dir / 'spec.json'
        with open(os.open(spec_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as f:
            json.dump(spec, f)
        # What the run may fill: its own folders, and the host's shared temp folders
        # where it has no private root. What the uid owned there before (lent by
        # the grader) is neither counted nor removed afterwards.
        shared = self.uid is not None and 'mount' not in steps
        lent = leftovers.inventory(self.uid) if shared else frozenset()
        own = ([] if 'mount' in steps else [str(fallback)]) + \
            [str(m.host) for m in mounts if m.writable]

        watched = (list(leftovers.SHARED_DIRS) if shared else []) + own

        def disk(free_only=False):
            if free_only:
                return leftovers.free_bytes(watched)
            return leftovers.disk_usage(self.uid if shared else None, own=own,
                                        pids=process_tree(process.pid), keep=lent)

        start = time.monotonic()
        try:
            process = subprocess.Popen(
                [os.path.realpath(sys.executable), '-I', '-S', str(LAUNCHER), str(spec_file)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(payload_w, status_w, *(control[:1] if control else ())),
                start_new_session=True, cwd='/')
        except BaseException:
            for fd in (payload_r, payload_w, status_r, status_w, *(control or ())):
                os.close(fd)
            if group:
                group.kill_and_remove()
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        os.close(payload_w)
        os.close(status_w)
        progress = None
        if control:
            os.close(control[0])
            progress = (on_progress, control[1])
        result = RunResult()
        try:
            report = self._collect(process, payload_r, status_r, start, budgets, result, group,
                                   deadline, progress, disk,
                                   cpu_counted=bool(set(steps) & {'pid', 'reaper'}))
        finally:
            if control:
                os.close(control[1])
            self._kill_everything(process)
            if self.uid is not None:
                self._remove_leftovers(steps, keep=lent)
            if group:
                result.peak_memory, hit = group.memory_figures()
                if hit and result.exit_code != 0 and result.limit is None:
                    result.limit = 'memory'
                group.kill_and_remove()
            result.seconds = time.monotonic() - start
            shutil.rmtree(run_dir, ignore_errors=True)
        return result, report

    def _nproc(self):
        """RLIMIT_NPROC counts every process of the uid: a private uid needs few."""
        if self.uid is not None:
            return self.limits.processes
        mine = len(uids.processes_of(os.getuid()))
        return mine + self.limits.processes

    def _collect(self, process, payload_r, status_r, start, budgets, result, group,
                 deadline=None, progress=None, disk=None, cpu_counted=False):
        """Read output, payload and status until the command ends or a budget runs out.

        Each complete answer frame starts the clock of the next one; progress
        frames go to progress = (callback, control descriptor) as they come.
        CPU time comes from the run's cgroup when it has one, else from its
        process tree (every process the run started when cpu_counted: a PID
        namespace or the reaper keeps them all in it); CPU wait always from
        the process tree (usage.py). disk(), if given, measures what the run
        holds on disk every DISK_INTERVAL seconds, or at once when the free
        space where it writes (disk(free_only=True)) has dropped by
        DISK_SLACK of its allowance since (limit 'disk' past Limits).
        """
        progress_frames = 0
        tree = TreeUsage(process.pid)
        counted = ReapedTreeCpu(process.pid) if cpu_counted else None

        def cpu_now():
            measured = group.cpu_seconds() if group else None
            if measured is not None:
                return measured
            return counted.sample() if counted else tree.sample()[0]

        frame_start, frame_cpu, frame_wait, frame_busy = start, 0.0, 0.0, busy_seconds()
        out, payload, status = bytearray(), bytearray(), bytearray()
        caps = {process.stdout.fileno(): (out, self.limits.output_bytes),
                payload_r: (payload, self.limits.payload_bytes),
                status_r: (status, 4096)}
        received = 0
        selector = selectors.DefaultSelector()
        for fd in caps:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        open_fds, exited_at, next_wait_sample, next_disk = set(caps), None, 0.0, 0.0
        slack, free_then = self.limits.disk_bytes * DISK_SLACK, None

        def usage(now, cpu):
            busy = busy_seconds()
            others = None if busy is None or frame_busy is None else \
                max(busy - frame_busy - (cpu - frame_cpu), 0.0)
            return Usage(cpu - frame_cpu, now - frame_start, tree.wait_seconds() - frame_wait,
                         others)

        try:
            while open_fds:
                now = time.monotonic()
                cpu = cpu_now()
                if now >= next_wait_sample:
                    tree.sample()
                    next_wait_sample = now + 0.5
                free_now = disk(free_only=True) if disk is not None else None
                if disk is not None and (now >= next_disk or free_then - free_now > slack):
                    held = disk()
                    result.disk = (held.bytes, held.entries, held.too_deep)
                    free_then, next_disk = free_now, time.monotonic() + DISK_INTERVAL
                    if held.bytes > self.limits.disk_bytes or held.too_deep or \
                            held.entries > self.limits.disk_entries:
                        result.limit = 'disk'
                        break
                frame = len(result.frames)
                budget = budgets[min(frame, len(budgets) - 1)]
                if cpu - frame_cpu > budget.cpu:
                    result.limit = 'cpu'
                    break
                if now - frame_start > budget.wall:
                    tree.sample()
                    result.limit = 'wall'
                    break
                if deadline is not None and now >= deadline:
                    result.limit = 'deadline'
                    break
                elapsed = now - frame_start
                if budget.idle is not None and elapsed > budget.idle and \
                        (cpu - frame_cpu) + (tree.wait_seconds() - frame_wait) < 0.1 * elapsed:
                    result.limit = 'idle'
                    break
                if exited_at is None and process.poll() is not None:
                    exited_at = now
                if exited_at is not None and now - exited_at > 1.0:
                    break  # a descendant holds a pipe open; it is killed below
                for key, _ in selector.select(timeout=0.05):
                    fd = key.fd
                    try:
                        chunk = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        selector.unregister(fd)
                        open_fds.discard(fd)
                        continue
                    buffer, cap = caps[fd]
                    used = received if fd == payload_r else len(buffer)
                    room = max(cap - used, 0)
                    if fd == payload_r and len(chunk) > room:
                        result.limit = 'output'
                    buffer += chunk[:room]
                    if fd != payload_r:
                        continue
                    received += min(len(chunk), room)
                    for answer in _complete_frames(payload):
                        if answer[:1] == PROGRESS:
                            progress_frames += 1
                            if progress and progress_frames <= MAX_PROGRESS:
                                _reply(progress[1], progress[0](answer[1:],
                                                                len(result.frames)))
                            continue
                        arrived = time.monotonic()
                        cpu = cpu_now()
                        tree.sample()
                        result.frames.append(answer)
                        result.usage.append(usage(arrived, cpu))
                        frame_start, frame_cpu = arrived, cpu
                        frame_wait, frame_busy = tree.wait_seconds(), busy_seconds()
                if result.limit == 'output':
                    break
            if result.limit is None:
                try:
                    process.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    result.limit = 'wall'
        finally:
            now = time.monotonic()
            result.usage.append(usage(now, cpu_now()))
            selector.close()
            for fd in (payload_r, status_r):
                os.close(fd)
        self._kill_everything(process)
        code = process.wait()
        if result.limit is None:
            if code < 0:
                result.signal = -code
            elif code > 128 and code - 128 in signal.Signals._value2member_map_:
                result.signal = code - 128  # PID-namespace init killed by a signal
            else:
                result.exit_code = code
        result.output = bytes(out)
        process.stdout.close()
        report = None
        for line in status.decode(errors='replace').splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                return None
            report = item if report is None else {**report, **item}
        return report

    def _kill_everything(self, process):
        """Kill the run's process group, and every process of its uid."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.uid is not None:
            self._sweep_uid()

    def _remove_leftovers(self, steps=(), keep=frozenset()):
        """Files and IPC objects the run created outside its folders (its processes are dead).

        A private root hides the host's temporary folders and an IPC namespace
        its IPC, so each sweep is needed only where its step is not in force.
        keep: the inventory of what the uid owned there before the run.
        """
        if 'mount' not in steps:
            leftovers.remove_files_of(self.uid, keep=keep)
        if 'ipc' not in steps:
            leftovers.remove_ipc_of(self.uid)

    def _sweep_uid(self):
        """SIGKILL every process of the sandbox uid (ours alone: uids.claim).

        Done by a short-lived shell that takes that uid (the grader's Python
        may be unreadable to it): kill(-1) as a user reaches exactly that
        user's processes in this PID namespace, the caller excepted.
        """
        subprocess.run(['/bin/sh', '-c', 'kill -9 -1 2>/dev/null; exit 0'],
                       user=self.uid, group=self.uid, extra_groups=[], cwd='/',
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={}, check=False)


def _reply(fd, message):
    """Write a reply to a run's control descriptor; a run that stopped listening loses it."""
    if message:
        try:
            os.write(fd, message)
        except (BlockingIOError, BrokenPipeError):
            pass


def _complete_frames(buffer):
    """Remove and return the complete frames at the start of a bytearray.

    A frame is its length (8 bytes, little-endian) followed by that many bytes.
    """
    frames = []
    while len(buffer) >= 8:
        size = int.from_bytes(buffer[:8], 'little')
        if len(buffer) < 8 + size:
            break
        frames.append(bytes(buffer[8:8 + size]))
        del buffer[:8 + size]
    return frames
