"""The sandbox itself: seccomp, host-wide uid claims, control groups, CPU accounting, signals."""
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.grading.sandbox import Budget, Limits, Sandbox, cgroups, seccomp, uids
from autograder.grading.sandbox.cores import cpu_share, usable_cores
from grading import make_submission
from helpers import KIT

_needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="uid drop and cgroups need root")


def root_only(test):
    """The `root` tier, skipped for other users."""
    return pytest.mark.root(_needs_root(test))


def test_the_x86_64_system_call_table_matches_the_kernel_headers():
    header = Path('/usr/include/x86_64-linux-gnu/asm/unistd_64.h')
    if not header.is_file():
        header = Path('/usr/include/asm/unistd_64.h')
    if not header.is_file():
        pytest.skip("no kernel headers on this machine (linux-libc-dev)")
    numbers = dict(re.findall(r'#define __NR_(\w+) (\d+)', header.read_text()))
    table = {**seccomp.DENIED['x86_64'], **seccomp.SPECIAL['x86_64']}
    wrong = {name: (nr, numbers.get(name)) for name, nr in table.items()
             if str(nr) != numbers.get(name)}
    assert not wrong, wrong


def test_the_seccomp_program_is_well_formed():
    for arch in seccomp.DENIED:
        program = seccomp.program(arch)
        assert program and len(program) < 200
        assert program[-1][0] == 0x06  # ends in a return
    assert seccomp.program('sparc') is None


@pytest.mark.skipif(seccomp.machine() not in seccomp.DENIED, reason="unknown architecture")
def test_seccomp_denies_what_it_lists_and_allows_python_numpy_and_threads(tmp_path):
    script = tmp_path / 'probe.py'
    script.write_text(textwrap.dedent(f"""
        import ctypes, errno, os, socket, sys, threading
        sys.path.insert(0, {str(Path(seccomp.__file__).parent)!r})
        import seccomp
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.prctl(38, 1, 0, 0, 0) == 0
        seccomp.install()
        import numpy
        numbers = seccomp.DENIED[seccomp.machine()]
        for name in ('keyctl', 'add_key', 'ptrace', 'mount', 'bpf', 'unshare'):
            assert libc.syscall(numbers[name], 0, 0, 0, 0, 0) == -1, name
            assert ctypes.get_errno() == errno.EPERM, name
        try:
            socket.socket(socket.AF_INET)
            raise SystemExit('an internet socket was allowed')
        except PermissionError:
            pass
        socket.socket(socket.AF_UNIX).close()
        t = threading.Thread(target=numpy.ones, args=(3,)); t.start(); t.join()
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        assert os.waitpid(pid, 0)[1] >> 8 == 7
        print('ok')
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == 'ok', result.stderr


def test_a_uid_claimed_anywhere_on_the_host_is_not_claimed_again(tmp_path):
    first = uids.claim(slot=0, base=63000)
    try:
        # Another process (another grader, maybe in a chroot) holds the next one.
        holder = subprocess.Popen([sys.executable, '-c', textwrap.dedent("""
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX)
            s.bind('\\0dl-homework-kit-sandbox-uid-63001')
            print('held', flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == 'held'
        second = uids.claim(slot=0, base=63000)
        assert first.uid == 63000 and second.uid == 63002
        second.close()
        holder.kill()
        holder.wait()
        third = uids.claim(slot=1, base=63000)
        assert third.uid == 63001  # released when its holder died
        third.close()
    finally:
        first.close()


@root_only
def test_a_uid_some_process_already_runs_as_is_skipped_and_never_swept():
    stranger = subprocess.Popen(['sleep', '60'], user=63100, group=63100)
    try:
        time.sleep(0.2)
        claim = uids.claim(slot=100, base=63000)
        assert claim.uid != 63100
        claim.close()
        assert stranger.poll() is None  # untouched
    finally:
        stranger.kill()
        stranger.wait()


def test_cpu_share_reads_cgroup_quotas(tmp_path):
    (tmp_path / 'cpu.max').write_text('50000 100000\n')
    assert cpu_share(tmp_path) == pytest.approx(min(0.5, len(os.sched_getaffinity(0))))
    assert usable_cores(tmp_path) == 1
    (tmp_path / 'cpu.max').write_text('max 100000\n')
    v1 = tmp_path / 'v1'
    (v1 / 'cpu').mkdir(parents=True)
    (v1 / 'cpu' / 'cpu.cfs_quota_us').write_text('150000\n')
    (v1 / 'cpu' / 'cpu.cfs_period_us').write_text('100000\n')
    assert cpu_share(v1) == pytest.approx(min(1.5, len(os.sched_getaffinity(0))))


def test_cpu_share_finds_a_quota_on_the_path_of_its_own_group(tmp_path):
    """A grader in a nested group (a container simulated with cgroups, a slice) is capped
    by the quota of its own group or of any ancestor, not only by the mount's root."""
    root = tmp_path / 'fs'
    own = root / 'cpu' / 'box' / 'grader'
    own.mkdir(parents=True)
    for folder, quota in ((root / 'cpu', '-1'), (root / 'cpu' / 'box', '50000'),
                          (own, '-1')):
        (folder / 'cpu.cfs_quota_us').write_text(quota + '\n')
        (folder / 'cpu.cfs_period_us').write_text('100000\n')
    mountinfo = tmp_path / 'mountinfo'
    mountinfo.write_text(f"32 31 0:29 / {root / 'cpu'} rw,relatime - cgroup cgroup rw,cpu\n")
    cgroup_file = tmp_path / 'cgroup'
    cgroup_file.write_text('1:cpu:/box/grader\n')
    affinity = len(os.sched_getaffinity(0))
    assert cpu_share(root, mountinfo, cgroup_file) == pytest.approx(min(0.5, affinity))
    assert cpu_share(root) == pytest.approx(affinity)  # the root alone: no quota
    # A bind-mounted view whose root is the box (a container's): paths are relative to it.
    mountinfo.write_text(f"32 31 0:29 /box {root / 'cpu'} rw - cgroup cgroup rw,cpu\n")
    (root / 'cpu' / 'grader').mkdir()
    (root / 'cpu' / 'grader' / 'cpu.cfs_quota_us').write_text('25000\n')
    (root / 'cpu' / 'grader' / 'cpu.cfs_period_us').write_text('100000\n')
    assert cpu_share(root, mountinfo, cgroup_file) == pytest.approx(min(0.25, affinity))


def test_cgroup_v2_delegation_on_a_fake_hierarchy(tmp_path):
    """A v2 layout: the grader moves into a leaf, enables controllers, makes run groups."""
    own = tmp_path / 'cg' / 'grader.scope'
    own.mkdir(parents=True)
    (own / 'cgroup.controllers').write_text('cpuset cpu io memory pids\n')
    (own / 'cgroup.subtree_control').write_text('')
    (own / 'cgroup.procs').write_text('')
    mountinfo = tmp_path / 'mountinfo'
    mountinfo.write_text(f"30 25 0:26 / {tmp_path / 'cg'} rw shared:4 - cgroup2 cgroup2 rw\n")
    cgroup_file = tmp_path / 'cgroup'
    cgroup_file.write_text('0::/grader.scope\n')
    groups = cgroups.Cgroups(mountinfo=mountinfo, cgroup_file=cgroup_file)
    assert groups.version == 2 and {'memory', 'pids', 'cpu'} <= groups.controllers
    assert (own / f'autograder-{os.getpid()}-judge' / 'cgroup.procs').read_text() == \
        str(os.getpid())
    run = groups.create('7', 2**30, 64, cpu_cores=0.5)
    d = Path(run.dirs['memory'])
    assert (d / 'memory.max').read_text() == str(2**30)
    assert (d / 'pids.max').read_text() == '64'
    assert (d / 'cpu.max').read_text() == '50000 100000'
    (d / 'cpu.stat').write_text('usage_usec 2500000\nuser_usec 2000000\n')
    assert run.cpu_seconds() == pytest.approx(2.5)
    (d / 'cgroup.procs').write_text('')
    (d / 'memory.peak').write_text('12345')
    (d / 'memory.events').write_text('low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n')
    assert run.memory_figures() == (12345, True)


def test_cgroup_v1_in_a_container_that_bind_mounts_its_own_subtree(tmp_path):
    """Docker on cgroup v1 without a cgroup namespace: /proc/self/cgroup says /docker/abc,
    the mount's root field is /docker/abc and its mount point is that group. Run groups go
    right under the mount point, and a kill by the limit's OOM killer is named even when
    memory.failcnt stays 0."""
    fs = tmp_path / 'fs'
    lines, own = [], []
    for i, name in enumerate(('memory', 'pids', 'cpu,cpuacct')):
        (fs / name).mkdir(parents=True)
        lines.append(f"{40 + i} 30 0:{50 + i} /docker/abc {fs / name} ro,nosuid - cgroup "
                     f"cgroup rw,{name}")
        own.append(f"{i + 2}:{name}:/docker/abc")
    lines.append(f"60 30 0:60 /other {tmp_path / 'elsewhere'} rw - cgroup cgroup rw,blkio")
    mountinfo, cgroup_file = tmp_path / 'mountinfo', tmp_path / 'cgroup'
    mountinfo.write_text('\n'.join(lines) + '\n')
    cgroup_file.write_text('\n'.join(own) + '\n')
    found = cgroups.own_groups(mountinfo, cgroup_file)
    assert found['v1']['memory'] == (fs / 'memory', fs / 'memory')
    assert found['v1']['cpuacct'] == (fs / 'cpu,cpuacct', fs / 'cpu,cpuacct')
    groups = cgroups.Cgroups(mountinfo=mountinfo, cgroup_file=cgroup_file)
    assert groups.version == 1 and groups.controllers == {'memory', 'pids', 'cpu', 'cpuacct'}
    run = groups.create('3', 2**29, 32, cpu_cores=0.5)
    d = Path(run.dirs['memory'])
    assert d.parent == fs / 'memory' and (d / 'memory.limit_in_bytes').read_text() == str(2**29)
    assert Path(run.dirs['cpu'], 'cpu.cfs_quota_us').read_text() == '50000'
    (d / 'memory.max_usage_in_bytes').write_text('4096\n')
    (d / 'memory.failcnt').write_text('0\n')
    (d / 'memory.oom_control').write_text('oom_kill_disable 0\nunder_oom 0\noom_kill 1\n')
    assert run.memory_figures() == (4096, True)
    (d / 'memory.oom_control').write_text('oom_kill_disable 0\nunder_oom 0\noom_kill 0\n')
    assert run.memory_figures() == (4096, False)
    # A group outside the mounted subtree is not ours to use.
    cgroup_file.write_text('2:memory:/system.slice\n3:pids:/system.slice\n')
    assert cgroups.own_groups(mountinfo, cgroup_file)['v1'] == {}
    assert cgroups.Cgroups(mountinfo=mountinfo, cgroup_file=cgroup_file).version is None


@pytest.mark.slow
@root_only
def test_a_run_is_confined_to_its_cpu_quota(tmp_path):
    """Many spinning threads take only the run's share of the machine (cpu.max)."""
    with Sandbox(tmp_path / 'box', limits=Limits(cpu_cores=0.5)) as box:
        if 'cgroup' not in box.detect().done or 'cpu' not in box.cgroups.controllers:
            pytest.skip("no writable cpu controller here")
        spin = ("import threading, time\n"
                "def spin():\n    end = time.time() + 3\n    while time.time() < end: pass\n"
                "ts = [threading.Thread(target=spin) for _ in range(4)]\n"
                "[t.start() for t in ts]; [t.join() for t in ts]")
        result = box.run([sys.executable, '-I', '-S', '-c', spin], budgets=[Budget(60, 60)])
    used, wall = result.usage[-1].cpu, result.usage[-1].wall
    assert result.failure() is None
    assert used <= 0.5 * wall * 1.25 + 0.3, (used, wall)


@root_only
def test_cpu_time_is_the_budget_and_the_feedback_says_so(tmp_path):
    with Sandbox(tmp_path / 'box') as box:
        result = box.run([sys.executable, '-I', '-S', '-c', 'while True: pass'],
                         budgets=[Budget(2, 60)])
    assert result.limit == 'cpu' and 'budget of CPU time' in result.failure()
    assert 2 <= result.usage[-1].cpu < 4


def test_the_run_spec_is_never_on_a_command_line(tmp_path, monkeypatch):
    """Command lines are world-readable (/proc/PID/cmdline), and without a PID
    namespace another grader's run could read a launcher's paths and binds
    there: the spec goes in a file only the judge reads, removed once read."""
    from autograder.grading import sandbox as module
    launches, real = [], subprocess.Popen

    def popen(argv, *args, **kwargs):
        if str(module.LAUNCHER) in argv:
            spec = Path(argv[-1])
            launches.append((list(argv), spec, spec.stat().st_mode & 0o777, spec.read_text()))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(module.subprocess, 'Popen', popen)
    with Sandbox(tmp_path / 'box') as box:
        result = box.run([sys.executable, '-I', '-S', '-c', 'print("ran")'],
                         env={'WHERE': '/grader/public-0123abcd'})
    assert b'ran' in result.output, result.output
    argv, spec, mode, text = launches[-1]
    assert mode == 0o600 and '/grader/public-0123abcd' in text
    assert not any('public-0123abcd' in word for word in argv), argv
    assert not spec.exists()


def _sandbox_pids(uid):
    return uids.processes_of(uid)


@pytest.mark.slow
@root_only
@pytest.mark.parametrize('how', ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'])
def test_killing_the_grader_ends_every_sandboxed_process(tmp_path, how):
    """However the grader dies, nothing it started in the sandbox survives it."""
    folder = make_submission(tmp_path / 'pkg', attacks={
        'models/_base_network.py': [('sigmoid', "import os, time\n"
                                                "for _ in range(3): os.fork()\n"
                                                "time.sleep(600)")]})
    env = dict(os.environ, AUTOGRADER_SANDBOX_UID='63500')
    grader = subprocess.Popen([sys.executable, '-m', 'autograder', 'grade', str(folder),
                               '--out', str(tmp_path / 'out'), '--only', 'activations.sigmoid',
                               '-q'], env=env, cwd=KIT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    uid = None
    while time.monotonic() < deadline and uid is None:
        for candidate in range(63500, 63510):
            if len(_sandbox_pids(candidate)) >= 4:
                uid = candidate
        time.sleep(0.2)
    assert uid is not None, "the sandboxed processes never started"
    roots = {p.name for p in Path('/tmp').glob(f'autograder-{grader.pid}-*')}
    assert roots
    grader.send_signal(getattr(signal, how))
    grader.wait(timeout=60)
    deadline = time.monotonic() + 10
    while _sandbox_pids(uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sandbox_pids(uid) == [], f"survivors after {how}"
    if how != 'SIGKILL':
        assert not any(Path('/tmp', name).exists() for name in roots)  # cleaned up
        assert grader.returncode == 130


@pytest.mark.slow
@root_only
def test_two_graders_on_one_host_never_share_a_uid_or_kill_each_other(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from autograder.grading.sandbox import Sandbox, Budget
        box = Sandbox(sys.argv[1], slot=0)
        box.detect()
        print(box.uid, flush=True)
        result = box.run([sys.executable, '-I', '-S', '-c', 'import time; time.sleep(4)'],
                         budgets=[Budget(30, 30, idle=None)])
        print(result.exit_code, result.signal, flush=True)
        box.close()
    """)
    env = dict(os.environ, AUTOGRADER_SANDBOX_UID='63600')
    a = subprocess.Popen([sys.executable, '-c', script, str(tmp_path / 'a')], env=env,
                         stdout=subprocess.PIPE, text=True, cwd=KIT)
    b = subprocess.Popen([sys.executable, '-c', script, str(tmp_path / 'b')], env=env,
                         stdout=subprocess.PIPE, text=True, cwd=KIT)
    uid_a, uid_b = a.stdout.readline().strip(), b.stdout.readline().strip()
    assert uid_a != uid_b
    assert a.stdout.readline().split() == ['0', 'None']  # each finished undisturbed
    assert b.stdout.readline().split() == ['0', 'None']
    a.wait(30)
    b.wait(30)


def _as_uid(uid, action):
    """Run action() in a child process with that uid; wait for it."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            action()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def _shm_of(uid):
    from autograder.grading.sandbox.leftovers import _ipc_of
    return [ident for kind, ident in _ipc_of(uid, '/proc') if kind == 'shm']


@root_only
def test_what_the_uid_leaves_in_shared_folders_goes_and_nothing_else(tmp_path):
    """Without a private root the sandbox uid writes the host's /tmp and /dev/shm: files
    there carried data from a unit-test run to the accuracy run, and from one student
    to the next graded as the same uid. Only the uid's own entries go; links are not
    followed."""
    import shutil
    import tempfile
    uid = 63890
    top = Path(tempfile.mkdtemp(prefix='leftovers-', dir='/tmp'))  # the uid can reach it
    os.chmod(top, 0o755)
    try:
        _plant_and_sweep(uid, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _plant_and_sweep(uid, top):
    from autograder.grading.sandbox import leftovers
    shared, outside = top / 'shared', top / 'outside'
    shared.mkdir()
    os.chmod(shared, 0o1777)
    outside.write_text('keep')
    (shared / 'roots').write_text('keep')
    (shared / 'public').mkdir(mode=0o777)
    os.chmod(shared / 'public', 0o777)

    def plant():
        (shared / 'marker').write_text('planted')
        (shared / 'tree' / 'deep').mkdir(parents=True)
        (shared / 'tree' / 'deep' / 'data').write_text('planted')
        (shared / 'link').symlink_to(outside)
        (shared / 'public' / 'nested').write_text('planted')
    _as_uid(uid, plant)
    assert leftovers.remove_files_of(uid, roots=[str(shared)]) == 4
    assert sorted(p.name for p in shared.rglob('*')) == ['public', 'roots']
    assert outside.read_text() == 'keep'


@root_only
def test_system_v_ipc_of_a_run_without_an_ipc_namespace_does_not_outlive_it(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv('AUTOGRADER_SANDBOX_DISABLE', 'ipc')
    monkeypatch.setenv('AUTOGRADER_SANDBOX_UID', '63880')
    code = ("import ctypes; libc = ctypes.CDLL(None)\n"
            "assert libc.shmget(0x7ed2, 4096, 0o1600) >= 0")
    with Sandbox(tmp_path / 'box') as box:
        assert 'ipc' not in box.detect().done
        result = box.run([sys.executable, '-I', '-S', '-c', code], budgets=[Budget(30, 60)])
        assert result.exit_code == 0, result.output
        assert _shm_of(box.uid) == []


@root_only
def test_without_a_pid_namespace_the_cpu_of_a_double_forked_process_is_the_runs(tmp_path,
                                                                               monkeypatch):
    """The launcher reaps orphans (step 'reaper'): a process that double-forks and
    leaves the session stays in the run's tree, so its CPU time counts even after it
    has ended and been reaped."""
    monkeypatch.setenv('AUTOGRADER_SANDBOX_DISABLE', 'pid,cgroup')
    code = textwrap.dedent("""
        import os, time
        if os.fork() == 0:
            if os.fork() == 0:
                os.setsid()
                while time.process_time() < 1.5:
                    pass
                open('spun', 'w').close()
                os._exit(0)
            os._exit(0)
        while not os.path.exists('spun'):
            time.sleep(0.05)
        time.sleep(0.5)  # the spinner has ended and been reaped by now
    """)
    with Sandbox(tmp_path / 'box') as box:
        assert 'reaper' in box.detect().done and 'pid' not in box.detect().done
        result = box.run([sys.executable, '-I', '-S', '-c', code],
                         budgets=[Budget(30, 300, idle=None)])
    assert result.failure() is None, (result.failure(), result.output)
    assert result.usage[-1].cpu >= 1.45, result.usage


@root_only
def test_disk_usage_counts_shared_folders_own_folders_and_deleted_open_files():
    import tempfile
    from autograder.grading.sandbox import leftovers
    uid = 63893
    top = Path(tempfile.mkdtemp(prefix='disk-', dir='/tmp'))
    os.chmod(top, 0o1777)
    own = Path(tempfile.mkdtemp(prefix='disk-own-', dir='/tmp'))  # like the run's work folder
    os.chown(own, uid, uid)
    holder = None
    try:
        holder = subprocess.Popen(['/usr/bin/python3', '-I', '-S', '-c', textwrap.dedent(f"""
            import os, sys, time
            with open({str(top / 'kept')!r}, 'wb') as f:
                f.write(os.urandom(3 << 20))
            os.makedirs({str(top / 'tree' / 'deep')!r})
            with open({str(top / 'tree' / 'deep' / 'x')!r}, 'wb') as f:
                f.write(os.urandom(1 << 20))
            with open({str(own / 'mine')!r}, 'wb') as f:
                f.write(os.urandom(2 << 20))
            hidden = open({str(top / 'hidden')!r}, 'wb')
            hidden.write(os.urandom(5 << 20))
            hidden.flush()
            os.unlink(hidden.name)
            print('ready', flush=True)
            time.sleep(60)
        """)], user=uid, group=uid, extra_groups=[], stdout=subprocess.PIPE, text=True,
            cwd='/', stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert holder.stdout.readline().strip() == 'ready'
        usage = leftovers.disk_usage(uid, roots=[str(top)], own=[str(own)], pids=[holder.pid])
        assert usage.complete
        mib = usage.bytes / 2**20
        assert 11 <= mib < 12.5, mib  # 3 + 1 + 2 + 5 MiB, plus the folders' blocks
        assert usage.entries == 6  # kept, tree, deep, x, mine, the deleted file
        lent = leftovers.inventory(uid, roots=[str(top)])
        assert leftovers.disk_usage(uid, roots=[str(top)], keep=lent).bytes == 0
        assert leftovers.free_bytes([str(top), str(own)]) > 0
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        import shutil
        shutil.rmtree(top, ignore_errors=True)
        shutil.rmtree(own, ignore_errors=True)
