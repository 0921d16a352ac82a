"""What every section shares: paths, child processes, statistics, result rows."""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
SOLUTIONS = KIT / 'solutions'
DATA = KIT / 'data' / 'mnist'
RESULT_MARK = 'BENCH_RESULT '
RSS_MARK = 'BENCH_MAXRSS '
# Every measured command runs under this small wrapper, which forks it and reports
# its ru_maxrss. Linux counts in a process's ru_maxrss the resident set it had
# before exec(), i.e. of the process that forked it: children forked straight from
# this (large) bench process would all report at least its size.
_WRAPPER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        os.execvp(sys.argv[1], sys.argv[1:])\n"
    "    finally:\n"
    "        os._exit(127)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    f"os.write(2, b'\\n{RSS_MARK}%d\\n' % (usage.ru_maxrss * 1024))\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)
THREAD_VARS = ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS')


@dataclass
class Settings:
    """How much to measure: the full run or the --quick smoke run."""
    quick: bool
    out: Path
    rounds: int
    solutions: Path = SOLUTIONS
    data: Path = DATA
    log: object = None  # callable(str) for progress lines

    def say(self, text):
        if self.log:
            self.log(text)


def mnist_dir():
    """The MNIST folder the kit's loader would use ($MNIST_DIR or data/mnist)."""
    env = os.environ.get('MNIST_DIR')
    return Path(env).expanduser() if env else DATA


# -- child processes ------------------------------------------------------------

@dataclass
class Child:
    """What one child process did."""
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss: int  # bytes: the largest resident set of the command or of a reaped descendant
    samples: dict = field(default_factory=dict)  # pid -> (cmdline, VmHWM bytes, ppid)
    peak_tree_rss: int = 0  # bytes: the largest sum of VmRSS over the process tree
    pid: int = 0

    def result(self):
        """The JSON a bench.worker task printed; raises with the child's stderr if none."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(RESULT_MARK):
                return json.loads(line[len(RESULT_MARK):])
        raise RuntimeError(f"child exited {self.returncode} without a result:\n"
                           f"{self.stderr.strip()[-2000:]}")


def child_env(threads=None, extra=None):
    """os.environ for a child: BLAS threads pinned to `threads`, or left at the
    library default (the variables removed) when threads is None."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env.pop(var, None)
    if threads is not None:
        for var in THREAD_VARS:
            env[var] = str(threads)
    env.setdefault('MNIST_DIR', str(mnist_dir()))
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env.update(extra or {})
    return env


def _descendants(root):
    """pids of root and every process below it, from /proc."""
    children = {}
    for entry in os.scandir('/proc'):
        if not entry.name.isdigit():
            continue
        try:
            with open(f'/proc/{entry.name}/stat', 'rb') as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b')') + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _memory_of(pid):
    """(cmdline, VmHWM bytes, VmRSS bytes, parent pid) of a live process, or None."""
    try:
        status = Path(f'/proc/{pid}/status').read_text()
        cmdline = Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode(
            errors='replace').strip()
    except OSError:
        return None
    values = {}
    for line in status.splitlines():
        key, _, rest = line.partition(':')
        if key in ('VmHWM', 'VmRSS'):
            values[key] = int(rest.split()[0]) * 1024
        elif key == 'PPid':
            values[key] = int(rest.split()[0])
    if 'VmHWM' not in values:
        return None  # a kernel thread or a zombie
    return cmdline, values['VmHWM'], values.get('VmRSS', 0), values.get('PPid')


def run_child(argv, env=None, cwd=KIT, timeout=600.0, sample_memory=False):
    """Run a command to completion; its output, wall time and peak memory.

    The peak resident memory comes from wait4() in a small wrapper process
    (see _WRAPPER): the largest resident set of the command or of any
    descendant it waited for. With sample_memory, /proc is also read every
    50 ms for every process of the tree (each one's VmHWM and parent, and the
    largest total VmRSS of the tree).
    """
    wrapped = [sys.executable, '-I', '-S', '-c', _WRAPPER, *argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, start_new_session=True)
        samples, peak_tree = {}, 0
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                status = -signal.SIGKILL
                break
            if sample_memory:
                total = 0
                for p in _descendants(process.pid):
                    memory = _memory_of(p)
                    if memory:
                        cmdline, hwm, rss, ppid = memory
                        total += rss
                        previous = samples.get(p, (cmdline, 0, ppid))[1]
                        samples[p] = (cmdline, max(previous, hwm), ppid)
                peak_tree = max(peak_tree, total)
            time.sleep(0.05 if sample_memory else 0.01)
        seconds = time.perf_counter() - start
        process.returncode = status if status < 0 else os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stderr, max_rss = [], 0
        for line in err.read().decode(errors='replace').splitlines(keepends=True):
            if line.startswith(RSS_MARK):
                max_rss = int(line[len(RSS_MARK):])
            else:
                stderr.append(line)
        return Child(process.returncode, out.read().decode(errors='replace'),
                     ''.join(stderr), seconds, max_rss, samples, peak_tree, process.pid)


class Server:
    """A `bench.worker serve_training` process, driven one request line at a time."""

    def __init__(self, params, threads=None, timeout=900.0):
        self.timeout = timeout
        self.err = tempfile.TemporaryFile()
        argv = [sys.executable, '-I', '-S', '-c', _WRAPPER, sys.executable, '-m',
                'bench.worker', 'serve_training', json.dumps(params)]
        self.process = subprocess.Popen(argv, env=child_env(threads), cwd=KIT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.err, text=True, start_new_session=True)
        self._read()  # the READY line, once the data is loaded

    def _stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors='replace')

    def _read(self):
        watchdog = threading.Timer(self.timeout, self.kill)
        watchdog.start()
        try:
            for line in self.process.stdout:
                if line.startswith(RESULT_MARK):
                    return json.loads(line[len(RESULT_MARK):])
        finally:
            watchdog.cancel()
        raise RuntimeError(f"training worker ended:\n{self._stderr().strip()[-2000:]}")

    def request(self, command):
        self.process.stdin.write(command + '\n')
        self.process.stdin.flush()
        return self._read()

    def close(self):
        """The worker's summary and its peak resident memory (bytes)."""
        summary = self.request('done')
        self.process.stdin.close()
        self.process.wait(timeout=120)
        rss = [int(line[len(RSS_MARK):]) for line in self._stderr().splitlines()
               if line.startswith(RSS_MARK)]
        self.err.close()
        return summary, (rss[0] if rss else 0)

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_worker(task, params, threads=None, timeout=900.0, extra_env=None):
    """Run one bench.worker task in a fresh interpreter; (result dict, Child)."""
    argv = [sys.executable, '-m', 'bench.worker', task, json.dumps(params)]
    child = run_child(argv, env=child_env(threads, extra_env), timeout=timeout)
    return child.result(), child


# -- statistics and rows --------------------------------------------------------

def summary(values):
    """{'median', 'min', 'n', 'values'} of a list of numbers."""
    values = [float(v) for v in values]
    return {'median': statistics.median(values), 'min': min(values), 'n': len(values),
            'values': values}


def rotate(items, k):
    """items rotated by k: each round starts with a different variant."""
    k %= len(items)
    return list(items[k:]) + list(items[:k])


def row(section, name, unit, value, baseline=None, baseline_name='', better='lower',
        target=None, note='', status='ok', ratio_kind='time', target_on='median', met=None):
    """One line of the results table.

    Args:
        value, baseline: summary() dicts (or None for a row not measured).
        better: 'lower' (times, memory) or 'higher' (throughput, GFLOP/s).
        target: (op, number, text): op '<=' or '>=' applied to the ratio of
            medians, e.g. ('<=', 0.6, 'at most 0.6x PyTorch').
        status: 'ok', 'skipped' (an optional dependency is missing) or
            'error' (the measurement failed); the note says why.
        target_on: 'median' (the target applies to the ratio of medians) or
            'min' (to the ratio of minima: for a 'higher' row, the worst run,
            e.g. "full marks in every run").
        met: True or False to decide the target otherwise (e.g. an exact
            score in every run); None to apply it to the ratio.

    The ratio is value / baseline, of the medians and of the minima (for
    `better='higher'` rows the minimum is the worst run, so the ratio of
    minima compares the worst runs).
    """
    entry = {'section': section, 'name': name, 'unit': unit, 'status': status,
             'better': better, 'note': note, 'value': value,
             'baseline_name': baseline_name, 'baseline': baseline,
             'ratio': None, 'ratio_min': None, 'target': None, 'met': None}
    if status == 'ok' and value and baseline:
        if baseline['median'] > 0 and baseline['min'] > 0:
            entry['ratio'] = value['median'] / baseline['median']
            entry['ratio_min'] = value['min'] / baseline['min']
    if target:
        op, number, text = target
        entry['target'] = {'op': op, 'value': number, 'text': text, 'on': target_on}
        ratio = entry['ratio_min'] if target_on == 'min' else entry['ratio']
        if met is not None and status == 'ok':
            entry['met'] = bool(met)
        elif ratio is not None:
            entry['met'] = ratio <= number if op == '<=' else ratio >= number
    return entry


def failed(section, name, unit, err, baseline_name=''):
    """A row for a measurement that raised: status 'error' with the reason."""
    text = str(err).strip().splitlines()
    return row(section, name, unit, None, baseline_name=baseline_name, status='error',
               note=f"failed: {type(err).__name__}: {text[-1] if text else ''}"[:300])


def loadavg():
    try:
        return [float(x) for x in Path('/proc/loadavg').read_text().split()[:3]]
    except OSError:
        return None


def _cpu_by_process():
    """{pid: (ppid, CPU seconds of the process and of the children it reaped)}."""
    ticks = os.sysconf('SC_CLK_TCK')
    table = {}
    for entry in os.scandir('/proc'):
        if not entry.name.isdigit():
            continue
        try:
            with open(f'/proc/{entry.name}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # After the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15).
        table[int(entry.name)] = (int(fields[1]),
                                  sum(int(x) for x in fields[11:15]) / ticks)
    return table


class OtherWork:
    """CPU seconds used by processes outside this benchmark's own process tree.

    The load average cannot tell the benchmark's own work from anyone else's;
    this can. Between two snapshots, a process outside the tree counts with the
    CPU time it (and the children it reaped) gained, a new one with all of it.
    A child's time counts when it is reaped, so a process that ran before the
    first snapshot and was reaped after it counts in full: minutes-long
    sections make that error small.
    """

    def __init__(self):
        self._start = self._foreign()
        self._clock = time.monotonic()

    @staticmethod
    def _foreign():
        table = _cpu_by_process()
        ours = {os.getpid()}
        changed = True
        while changed:  # descendants, whatever their depth
            changed = False
            for pid, (ppid, _) in table.items():
                if ppid in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        return {pid: cpu for pid, (_, cpu) in table.items() if pid not in ours}

    def share(self):
        """(CPU seconds of other work, that as a fraction of all cores' time) so far."""
        now, seconds = self._foreign(), time.monotonic() - self._clock
        used = sum(max(0.0, cpu - self._start.get(pid, 0.0)) for pid, cpu in now.items())
        return used, used / max(seconds * (os.cpu_count() or 1), 1e-9)


# -- CPU-bound processes beside a measurement ---------------------------------------

# A spinner: pure Python arithmetic, no memory traffic to speak of, no syscalls but
# one getppid() per million iterations, so that it ends by itself within a fraction
# of a second if the benchmark dies without stopping it.
SPINNER = ("import os\n"
           "parent = os.getppid()\n"
           "while os.getppid() == parent:\n"
           "    for _ in range(1000000):\n"
           "        pass\n")


class Spinners:
    """`count` CPU-bound processes running while inside the `with` block.

    Each is `python -c SPINNER` in its own session; leaving the block (or an
    exception, or stop()) kills them all and reaps them. They also end by
    themselves when this process dies.
    """

    def __init__(self, count):
        self.count = count
        self.processes = []

    def start(self):
        """Start the spinners; returns self."""
        for _ in range(self.count):
            self.processes.append(subprocess.Popen(
                [sys.executable, '-I', '-S', '-c', SPINNER], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        time.sleep(0.2)  # every one of them running before the measurement starts
        return self

    def stop(self):
        """Kill and reap every spinner (idempotent)."""
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for process in self.processes:
            process.wait()
        self.processes = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def fair_share(idle_seconds, others, cores=None):
    """The time a 1-thread task should take with `others` CPU-bound processes beside it
    on `cores` cores (default: the usable cores) if the scheduler shares them evenly:
    idle_seconds * (others + 1) / cores, and never less than idle_seconds."""
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
    return idle_seconds * max(1.0, (others + 1) / cores)
