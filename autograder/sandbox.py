"""Run untrusted commands in isolated child processes and collect what they return.

The judge calls `Sandbox.run` with a command and the host folders the command
may see; it gets back a `RunResult`: exit status, the first bytes of the
command's output, and the payload the command wrote on its payload
descriptor. The command never shares memory, files or descriptors with the
judge beyond those.

Isolation is layered. `_launcher.py` applies, in the child, every step the
host allows: a network namespace (no network), a PID namespace (the command
is init: all its descendants die with it), a private root holding only the
system folders, the Python installation and the given binds (so the kit, the
hidden tests, the reference, the labels and the results are simply absent),
a memory and process cgroup, rlimits (address space, processes, file size,
open files, CPU time, no core dumps), an unprivileged uid/gid when the
grader is root, and no_new_privs. `Sandbox.protections` is measured once by
a real run with every step optional; later runs require exactly those steps,
so no run is weaker than reported. Each run also gets a wall-clock limit
(its process group is killed on expiry), a scrubbed environment and a fresh
private working folder, and afterwards everything still running as its uid
or in its cgroup is killed.
"""
import json
import math
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

from . import paths

LAUNCHER = Path(__file__).resolve().parent / '_launcher.py'
ALL_STEPS = ('cgroup', 'net', 'ipc', 'pid', 'mount', 'rlimits', 'user', 'nonewprivs')
STEP_NAMES = {
    'cgroup': 'memory and process-count cgroup',
    'net': 'no network (private network namespace)',
    'ipc': 'private IPC namespace',
    'pid': 'private PID namespace (descendants die with the test)',
    'mount': 'private filesystem view (kit, hidden tests, reference, labels, results absent)',
    'rlimits': 'rlimits (address space, processes, file size, open files, CPU time)',
    'user': 'unprivileged user',
    'nonewprivs': 'no_new_privs',
}
SYSTEM_DIRS = ('/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc')
WORK = '/sandbox/work'


class SandboxError(Exception):
    """The sandbox itself cannot run (not a student's fault)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run.

    The address-space limit sits below the cgroup's memory limit, so a memory
    bomb usually ends in a MemoryError the student can read about rather than
    a kill.
    """
    memory_bytes: int = 3 * 2**30
    address_space_bytes: int = 5 * 2**29
    processes: int = 64
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    output_bytes: int = 64 * 2**10
    payload_bytes: int = 64 * 2**20
    tmp_bytes: int = 256 * 2**20
    blas_threads: int = 1


def usable_cores(cgroup_root='/sys/fs/cgroup'):
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota.

    os.cpu_count() counts the host's cores; a container (Gradescope's gives
    half a CPU by default) may be allowed far fewer, and BLAS threads beyond
    the quota only take turns.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    root = Path(cgroup_root)
    for quota_file, period_file in ((root / 'cpu.max', None),  # cgroup v2: "QUOTA PERIOD"
                                    (root / 'cpu' / 'cpu.cfs_quota_us',
                                     root / 'cpu' / 'cpu.cfs_period_us')):
        try:
            fields = quota_file.read_text().split()
            quota = fields[0]
            period = fields[1] if period_file is None else period_file.read_text().strip()
            if quota not in ('max', '-1'):
                cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
        except (OSError, ValueError, IndexError):
            continue
    return max(1, cores)


def blas_threads(jobs):
    """BLAS threads for each of `jobs` concurrent graders: usable cores // jobs, at least 1."""
    return max(1, usable_cores() // max(jobs, 1))


@dataclass
class RunResult:
    """What one sandboxed run did.

    Attributes:
        exit_code: the command's exit status, or None if it was killed.
        signal: the signal that ended it, if any.
        timed_out: the wall-clock limit expired.
        memory_exceeded: the cgroup's memory limit was hit.
        output: the first Limits.output_bytes of stdout and stderr.
        output_truncated: more output was produced and dropped.
        payload: the bytes written to the payload descriptor (None if more
            than Limits.payload_bytes).
        seconds: wall time.
        peak_memory: the cgroup's peak memory in bytes, when measured.
        frames: the payload cut into frames (8-byte little-endian length, then
            that many bytes), complete frames only.
        frame_seconds: when each frame was complete, in seconds since the
            previous one (or the start).
    """
    exit_code: object = None
    signal: object = None
    timed_out: bool = False
    memory_exceeded: bool = False
    output: bytes = b''
    output_truncated: bool = False
    payload: object = b''
    seconds: float = 0.0
    peak_memory: object = None
    frames: list = field(default_factory=list)
    frame_seconds: list = field(default_factory=list)

    def failure(self):
        """Why the run did not end normally, in words; None if it did."""
        if self.timed_out:
            return f"timed out after {self.seconds:.1f} s"
        if self.memory_exceeded:
            return "exceeded the memory limit"
        if self.signal is not None:
            name = signal.Signals(self.signal).name if self.signal in signal.Signals._value2member_map_ else self.signal
            return f"killed by signal {name}"
        if self.exit_code not in (0, None):
            return f"exited with status {self.exit_code}"
        if self.payload is None:
            return "returned more data than allowed"
        return None


@dataclass
class Protections:
    """The isolation steps in force, measured on this host."""
    done: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)

    def lines(self):
        out = [f"in force: {STEP_NAMES[s]}" for s in ALL_STEPS if s in self.done]
        out += [f"not available: {STEP_NAMES[s]} ({why})" for s, why in self.skipped.items()]
        return out


def _python_dirs():
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


class _Cgroups:
    """Per-run memory and pids cgroups (v1 hierarchies or v2), when writable."""

    def __init__(self):
        self.base = {}
        try:
            lines = Path('/proc/self/cgroup').read_text().splitlines()
        except OSError:
            return
        for line in lines:
            _, controllers, path = line.split(':', 2)
            for name in ('memory', 'pids'):
                if name in controllers.split(','):
                    root = Path('/sys/fs/cgroup') / name / path.lstrip('/')
                    if os.access(root, os.W_OK):
                        self.base[name] = root
        for name, base in self.base.items():
            # Groups left by a grader that was killed: empty them and remove them.
            for stale in base.glob('autograder-*'):
                owner = stale.name.split('-')[1]
                if owner.isdigit() and not Path(f'/proc/{owner}').exists():
                    self.finish({name: stale})

    def available(self):
        return set(self.base) == {'memory', 'pids'}

    def create(self, tag, limits):
        dirs = {}
        for name, base in self.base.items():
            d = base / f'autograder-{tag}'
            d.mkdir(exist_ok=True)
            dirs[name] = d
        (dirs['memory'] / 'memory.limit_in_bytes').write_text(str(limits.memory_bytes))
        (dirs['pids'] / 'pids.max').write_text(str(limits.processes))
        return dirs

    @staticmethod
    def finish(dirs):
        """Kill what is left, read the memory figures, remove the groups."""
        peak, exceeded = None, False
        memory = dirs.get('memory')
        if memory is not None:
            try:
                peak = int((memory / 'memory.max_usage_in_bytes').read_text())
                exceeded = int((memory / 'memory.failcnt').read_text()) > 0
            except (OSError, ValueError):
                pass
        for d in dirs.values():
            for _ in range(50):
                try:
                    pids = [int(p) for p in (d / 'cgroup.procs').read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.02)
            try:
                d.rmdir()
            except OSError:
                pass
        return peak, exceeded


class Sandbox:
    """Runs commands isolated from the judge; one instance per grading worker.

    Args:
        workdir: a folder private to the judge (created 0o711: the sandbox
            user may pass through it to its own run folders, not list it).
        slot: the worker's number; it picks the unprivileged uid, so that
            concurrent workers never share one.
        limits: resource limits of every run.
        trusted: run without isolation (only for the reference solution).
    """

    def __init__(self, workdir, slot=0, limits=Limits(), trusted=False):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o711)
        self.limits = limits
        self.trusted = trusted
        self.is_root = os.geteuid() == 0
        self.uid, self._uid_lock = None, None
        if self.is_root and not trusted:
            self.uid, self._uid_lock = _claim_uid(slot)
        self.cgroups = _Cgroups() if self.is_root and not trusted else None
        self._runs = 0
        self._protections = None
        if self.uid is not None:
            self._sweep_uid()  # leftovers of a grader that was killed with this uid

    # -- what this host allows -------------------------------------------------
    @property
    def protections(self):
        """Protections measured once by a real run with every step optional."""
        if self._protections is None:
            self._protections = Protections() if self.trusted else self._detect()
        return self._protections

    def _wanted_steps(self):
        disabled = set(filter(None, os.environ.get('AUTOGRADER_SANDBOX_DISABLE', '').split(',')))
        unknown = disabled - set(ALL_STEPS)
        if unknown:
            raise SandboxError(f"AUTOGRADER_SANDBOX_DISABLE: unknown step(s) {sorted(unknown)}; "
                               f"valid: {', '.join(ALL_STEPS)}")
        steps = [s for s in ALL_STEPS if s not in disabled]
        if self.uid is None:
            steps.remove('user')
        if not (self.cgroups and self.cgroups.available()):
            steps.remove('cgroup')
        return steps, disabled

    def _detect(self):
        steps, disabled = self._wanted_steps()
        result, report = self._launch([sys.executable, '-I', '-S', '-c', 'import sys'], {}, 30,
                                      steps, required=False)
        if report is None or report.get('exec_error'):
            raise SandboxError("the sandbox could not start Python: "
                               + (report or {}).get('exec_error', '') + " "
                               + (result.output.decode(errors='replace').strip()
                                  or result.failure() or "no report"))
        protections = Protections(report['done'], dict(report['skipped']))
        for step in disabled:
            protections.skipped[step] = 'disabled by AUTOGRADER_SANDBOX_DISABLE'
        if self.is_root and 'cgroup' not in protections.done and 'cgroup' not in disabled:
            protections.skipped.setdefault('cgroup', 'no writable memory and pids cgroups')
        if self.is_root and 'user' not in protections.done:
            raise SandboxError("running as root but cannot drop to an unprivileged user; "
                               "refusing to run student code as root")
        if result.failure():
            raise SandboxError("Python does not start inside the sandbox ("
                               + result.failure() + "): " +
                               result.output.decode(errors='replace').strip()[-500:] +
                               ("" if 'mount' in protections.done else
                                " -- without a private filesystem view the sandbox user "
                                "must be able to read the Python installation"))
        if 'mount' not in protections.done:
            self._guard_kit(protections)
        return protections

    def _guard_kit(self, protections):
        """Without a private root, other users must not be able to enter the kit."""
        if self.uid is None:
            protections.skipped['kit'] = ("the grader is not root: student code runs as the "
                                          "grader's own user and can read what it can read")
            return
        kit = paths.kit_root()
        mode = kit.stat().st_mode
        if mode & 0o001:
            os.chmod(kit, mode & ~0o007)
            protections.done.append('kit-permissions')
            STEP_NAMES['kit-permissions'] = (f"other users' access to {kit} removed "
                                             f"(chmod o-rwx)")

    # -- one run ---------------------------------------------------------------
    def run(self, argv, mounts=(), timeout=60.0, env=None, frame_limits=None):
        """Run argv isolated; paths in argv and env under a mount are translated.

        Args:
            argv: the command; argv[0] should be sys.executable for Python.
            mounts: [(host folder, writable)] the command may see; inside the
                private root each appears at /sandbox/<name of the folder>.
            timeout: wall-clock seconds.
            env: extra environment variables.
            frame_limits: for a command that answers several requests, one
                frame each: the seconds each frame may take, counted from the
                previous frame. Replaces `timeout`; the run stops (timed out)
                at the first frame late.

        Returns:
            RunResult.
        """
        steps = self.protections.done if not self.trusted else []
        if frame_limits:
            timeout = frame_limits[0]
        result, report = self._launch(argv, dict(env or {}), timeout,
                                      [s for s in steps if s in ALL_STEPS], required=True,
                                      mounts=mounts, frame_limits=frame_limits)
        if report is None and not self.trusted and result.exit_code == 125:
            raise SandboxError("a sandbox step that worked before failed: "
                               + result.output.decode(errors='replace').strip())
        if report and report.get('exec_error'):
            raise SandboxError(report['exec_error'])
        return result

    def _launch(self, argv, env, timeout, steps, required, mounts=(), frame_limits=None):
        self._runs += 1
        run_dir = Path(tempfile.mkdtemp(prefix=f'run{self._runs}-', dir=self.workdir))
        private = 'mount' in steps
        translate = {}
        binds = []
        if private:
            for d in SYSTEM_DIRS:
                if os.path.isdir(d) and not os.path.islink(d):
                    binds.append([d, d, False])
            binds += [[d, d, False] for d in _python_dirs()]
            for host, writable in mounts:
                inside = f'/sandbox/{Path(host).name}'
                binds.append([str(host), inside, bool(writable)])
                translate[str(host)] = inside
            cwd = WORK
        else:
            cwd = str(run_dir / 'work')
            os.mkdir(cwd, 0o700)
            if self.uid is not None:
                os.chown(cwd, self.uid, self.uid)
        home = cwd

        def inside(value):
            for host, mapped in translate.items():
                if value == host or value.startswith(host + '/'):
                    return mapped + value[len(host):]
            return value

        threads = str(self.limits.blas_threads)
        child_env = {
            'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': home, 'TMPDIR': '/tmp' if private else home,
            'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8', 'PYTHONHASHSEED': '0',
            'PYTHONDONTWRITEBYTECODE': '1', 'PYTHONUNBUFFERED': '1', 'MPLBACKEND': 'Agg',
            'MPLCONFIGDIR': f'{home}/.matplotlib', 'OPENBLAS_NUM_THREADS': threads,
            'OMP_NUM_THREADS': threads, 'MKL_NUM_THREADS': threads,
        }
        child_env.update({k: inside(str(v)) for k, v in env.items()})
        payload_r, payload_w = os.pipe()
        status_r, status_w = os.pipe()
        child_env['SANDBOX_PAYLOAD_FD'] = str(payload_w)
        cgroup_dirs = {}
        if 'cgroup' in steps:
            cgroup_dirs = self.cgroups.create(f'{os.getpid()}-{self._runs}', self.limits)
        limits = self.limits
        spec = {
            'argv': [inside(a) for a in argv], 'env': child_env, 'cwd': cwd,
            'status_fd': status_w, 'steps': steps, 'required': required,
            'uid': self.uid, 'gid': self.uid,
            'rlimits': {'AS': limits.address_space_bytes, 'NPROC': self._nproc(),
                        'FSIZE': limits.file_bytes, 'NOFILE': limits.open_files, 'CORE': 0,
                        'CPU': int(sum(frame_limits) if frame_limits else timeout) + 10},
            'cgroups': [str(d) for d in cgroup_dirs.values()],
            'root': str(run_dir / 'root'), 'binds': binds,
            'tmpfs': [['/tmp', limits.tmp_bytes], [WORK, limits.tmp_bytes]],
        }
        if private:
            os.mkdir(run_dir / 'root', 0o700)
        start = time.monotonic()
        try:
            process = subprocess.Popen(
                [os.path.realpath(sys.executable), '-I', '-S', str(LAUNCHER), json.dumps(spec)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(payload_w, status_w), start_new_session=True, cwd='/')
        except BaseException:
            for fd in (payload_r, payload_w, status_r, status_w):
                os.close(fd)
            raise
        os.close(payload_w)
        os.close(status_w)
        result = RunResult()
        try:
            report = self._collect(process, payload_r, status_r, start, timeout, result,
                                   frame_limits)
        finally:
            self._kill_everything(process)
            if cgroup_dirs:
                result.peak_memory, result.memory_exceeded = _Cgroups.finish(cgroup_dirs)
            result.seconds = time.monotonic() - start
            shutil.rmtree(run_dir, ignore_errors=True)
        if result.memory_exceeded and result.exit_code == 0:
            result.memory_exceeded = False  # hit the limit, recovered (MemoryError caught)
        return result, report

    def _nproc(self):
        """RLIMIT_NPROC counts every process of the uid: a private uid needs few."""
        if self.uid is not None:
            return self.limits.processes
        mine = sum(1 for p in Path('/proc').iterdir() if p.name.isdigit()
                   and _owner(p) == os.getuid())
        return mine + self.limits.processes

    def _collect(self, process, payload_r, status_r, start, timeout, result, frame_limits=None):
        """Read output, payload and status until the command ends or time runs out.

        With frame_limits, every complete frame of the payload moves the
        deadline to now + the next frame's limit. The payload's total size is
        capped (Limits.payload_bytes), frames included.
        """
        deadline, last_frame, received = start + timeout, start, 0
        out, payload, status = bytearray(), bytearray(), bytearray()
        caps = {process.stdout.fileno(): (out, self.limits.output_bytes),
                payload_r: (payload, self.limits.payload_bytes),
                status_r: (status, 4096)}
        overflow = set()
        selector = selectors.DefaultSelector()
        for fd in caps:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        open_fds = set(caps)
        exited_at = None
        try:
            while open_fds:
                now = time.monotonic()
                if now >= deadline:
                    result.timed_out = True
                    break
                if exited_at is None and process.poll() is not None:
                    exited_at = now
                if exited_at is not None and now - exited_at > 1.0:
                    break  # a descendant holds a pipe open; it is killed below
                for key, _ in selector.select(timeout=min(0.1, deadline - now)):
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
                    room = cap - used
                    if len(chunk) > room:
                        overflow.add(fd)
                    buffer += chunk[:max(room, 0)]
                    if fd == payload_r:
                        received += min(len(chunk), max(room, 0))
                        for frame in _complete_frames(payload):
                            arrived = time.monotonic()
                            result.frames.append(frame)
                            result.frame_seconds.append(arrived - last_frame)
                            last_frame = arrived
                            done = len(result.frames)
                            if frame_limits and done < len(frame_limits):
                                deadline = arrived + frame_limits[done]
            if not result.timed_out:
                try:
                    process.wait(timeout=max(0.0, min(5.0, deadline - time.monotonic())))
                except subprocess.TimeoutExpired:
                    result.timed_out = True
        finally:
            selector.close()
            for fd in (payload_r, status_r):
                os.close(fd)
        self._kill_everything(process)
        code = process.wait()
        if not result.timed_out:
            if code < 0:
                result.signal = -code
            elif code > 128 and code - 128 in signal.Signals._value2member_map_:
                result.signal = code - 128  # PID-namespace init killed by a signal
            else:
                result.exit_code = code
        result.output = bytes(out)
        result.output_truncated = process.stdout.fileno() in overflow
        process.stdout.close()
        result.payload = None if payload_r in overflow else bytes(payload)
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

    def _sweep_uid(self):
        """SIGKILL every process of the sandbox uid, from a child that takes that uid."""
        sweeper = os.fork()
        if sweeper == 0:
            try:
                os.setgid(self.uid)
                os.setuid(self.uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:
                pass
            os._exit(0)
        os.waitpid(sweeper, 0)


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


def _claim_uid(slot):
    """An unprivileged uid no other grader on this machine is using right now.

    Each run ends by killing every process of its uid, so two graders (or two
    workers) must never share one. Uids are claimed with a lock file held for
    the life of the Sandbox; the kernel drops it if the process dies.
    """
    import fcntl

    base = int(os.environ.get('AUTOGRADER_SANDBOX_UID', '61000'))
    locks = Path(tempfile.gettempdir()) / 'autograder-uids'
    locks.mkdir(mode=0o700, exist_ok=True)
    for offset in range(1000):
        uid = base + (slot + offset) % 1000
        handle = open(locks / f'{uid}.lock', 'w')
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return uid, handle
    raise SandboxError(f"no free sandbox uid in {base}..{base + 999}")


def _owner(proc_dir):
    try:
        return proc_dir.stat().st_uid
    except OSError:
        return None
