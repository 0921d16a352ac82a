"""Start one untrusted command inside the sandbox; the judge runs this as a child.

    python -I -S launcher.py SPEC_FILE

This is the only code that runs with the grader's privileges on the far side
of the trust boundary, and it runs before any student code exists in the
process: it applies the isolation steps of SPEC, reports which ones took
effect on the status descriptor, and then replaces itself with the command.
Standard library only, no site-packages (-S), so nothing a student could
influence is imported; seccomp.py sits beside this file.

SPEC_FILE holds the spec as JSON, readable by the judge alone (0600), and is
removed once read: a command line is world-readable in /proc, and without a
PID namespace another grader's run could read the paths and binds in it.

SPEC (JSON) keys:
    argv, env             the command and its whole environment
    cwd                   its folder inside the private root (step 'mount')
    fallback_cwd          its folder when there is no private root
    parent                the judge's pid: if the judge dies, so does the run
    status_fd             where to write the JSON report before exec
    steps                 isolation steps to apply, in order of preference
    required              if true, a step that fails aborts the run (exit 125)
                          instead of being skipped: a run never gets weaker
                          isolation than the judge was told it would
    uid, gid              the unprivileged identity (step 'user')
    rlimits               {name: value} for resource.setrlimit
    cgroups               cgroup.procs files to join (step 'cgroup')
    root                  an empty folder to build the new root in (step 'mount')
    binds                 [[host path, path inside, writable]] (step 'mount')
    tmpfs                 [[path inside, size in bytes]] (step 'mount')

Steps: 'cgroup', 'net' (a network namespace: no interface but a down
loopback), 'ipc', 'pid' (a PID namespace whose init is the command:
everything it starts dies with it), 'mount' (a private root holding only the
binds), 'rlimits', 'user' (drop to uid/gid), 'nonewprivs', 'seccomp', and
'reaper' where there is no PID namespace (below). Whatever the steps, the
run gets PR_SET_PDEATHSIG: it is killed when the launcher dies, and the
launcher when the judge dies.

Without a PID namespace, step 'reaper' keeps the launcher behind as the
run's supervisor (a child subreaper, with the grader's identity, which the
run cannot signal): a process the command double-forks is reparented to it,
not to the host's init, so the judge finds every process of the run in the
launcher's tree and their CPU time in its count of reaped children
(usage.ReapedTreeCpu); when the command ends, whatever it left running is
killed.
"""
import ctypes
import json
import os
import resource
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seccomp  # noqa: E402  (beside this file; standard library only)

CLONE = {'mount': 0x00020000, 'ipc': 0x08000000, 'pid': 0x20000000, 'net': 0x40000000}
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
# Rounds of killing what the command left behind (each round kills the
# supervisor's children; their orphans come to it for the next).
KILL_ROUNDS = 2000
DEVICES = ('null', 'zero', 'full', 'random', 'urandom')

libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _die_with(parent):
    """Be killed when our parent dies; if it is already gone, stop now.

    The setting is per process and cleared by fork and by every change of
    credentials, so it is made again after each. The init of a new PID
    namespace sees its parent (outside the namespace) as pid 0.
    """
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() not in (parent, 0):
        os._exit(125)


def _exit_like(status):
    """End this process the way a waited-for child ended (128 + signal if killed)."""
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


def _children():
    pids = set()
    try:
        tasks = os.listdir('/proc/self/task')
    except OSError:
        return pids
    for tid in tasks:
        try:
            with open(f'/proc/self/task/{tid}/children') as f:
                pids.update(int(word) for word in f.read().split())
        except (OSError, ValueError):
            continue
    return pids


def _kill_what_is_left():
    """SIGKILL and reap every descendant; their orphans come here, and go the same way.

    Never blocks on a live process: each round kills the children listed,
    reaps whatever has ended, and looks again (an orphan may have arrived).
    """
    for _ in range(KILL_ROUNDS):
        for pid in _children():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return  # no child left at all
        time.sleep(0.005)


def _supervise(command_fds):
    """Fork; the parent stays as the run's subreaper until the command ends, then exits.

    command_fds: descriptors that belong to the command alone (its payload,
    its control), closed in the supervisor. Returns (in the child only) the
    supervisor's pid.
    """
    _check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "child subreaper")
    supervisor = os.getpid()
    child = os.fork()
    if child == 0:
        return supervisor
    for fd in command_fds:
        os.close(fd)  # its end of file, or a reader gone, is the judge's signal
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: os.kill(child, signal.SIGKILL))
    status = 0
    while True:
        try:
            pid, waited = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child:
            status = waited
            break
    _kill_what_is_left()
    _exit_like(status)


def _mount(source, target, fstype, flags, data=None):
    enc = (lambda s: s.encode() if s is not None else None)
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                      enc(data)), f"mount {target}")


def _build_root(spec):
    """Make a fresh root that holds only the given binds, tmpfs and devices."""
    root = spec['root']
    _mount(None, '/', None, MS_REC | MS_PRIVATE)
    _mount('tmpfs', root, 'tmpfs', MS_NOSUID | MS_NODEV, 'size=16m,mode=0755')
    # Merged-/usr systems have /bin, /lib ... as symlinks into /usr.
    for name in ('bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'):
        if os.path.islink('/' + name):
            os.symlink(os.readlink('/' + name), os.path.join(root, name))
    # tmpfs first: a bind may lie below one (a virtual environment in /tmp,
    # a data folder inside the working folder).
    for inside, size in spec['tmpfs']:
        os.makedirs(root + inside, exist_ok=True)
        _mount('tmpfs', root + inside, 'tmpfs', MS_NOSUID | MS_NODEV,
               f'size={int(size)},mode=1777')
    for source, inside, writable in spec['binds']:
        target = root + inside
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, 'a').close()
        _mount(source, target, None, MS_BIND | MS_REC)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV
        _mount(None, target, None, flags | (0 if writable else MS_RDONLY))
    os.makedirs(root + '/dev', exist_ok=True)
    _mount('tmpfs', root + '/dev', 'tmpfs', MS_NOSUID, 'size=64k,mode=0755')
    for name in DEVICES:
        target = f'{root}/dev/{name}'
        open(target, 'a').close()
        _mount(f'/dev/{name}', target, None, MS_BIND)
    os.makedirs(root + '/proc', exist_ok=True)
    if 'pid' in spec['steps']:
        _mount('proc', root + '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chroot(root)
    os.chdir('/')


def _join_cgroups(paths):
    for path in paths:
        with open(path, 'w') as f:
            f.write(str(os.getpid()))


def _apply_rlimits(limits):
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, 'RLIMIT_' + name), (value, value))


def _drop_to(uid, gid):
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise OSError("could still become root after dropping privileges")


def _no_new_privs():
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _seccomp(network_namespace):
    try:
        seccomp.install(local_sockets_only=not network_namespace)
    except NotImplementedError as err:
        raise OSError(str(err)) from None


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    os.unlink(sys.argv[1])
    steps, required = spec['steps'], spec['required']
    done, skipped = [], {}
    parent = spec['parent']
    _die_with(parent)

    def attempt(step, action):
        if step not in steps:
            return
        try:
            action()
            done.append(step)
        except OSError as err:
            if required:
                os.write(2, f"sandbox: required step '{step}' failed: {err}\n".encode())
                os._exit(125)
            skipped[step] = str(err)

    attempt('cgroup', lambda: _join_cgroups(spec['cgroups']))
    for step in ('net', 'ipc'):
        attempt(step, lambda step=step: _check(libc.unshare(CLONE[step]), f"unshare {step}"))
    attempt('pid', lambda: _check(libc.unshare(CLONE['pid']), "unshare pid"))
    if 'pid' in done:
        # The next child is PID 1 of the new namespace; when it exits, the
        # kernel kills everything else in it. Wait and pass its status on.
        launcher = os.getpid()
        child = os.fork()
        if child:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, lambda *_: os.kill(child, signal.SIGKILL))
            _, status = os.waitpid(child, 0)
            _exit_like(status)
        _die_with(launcher)
        parent = launcher
    else:
        command_fds = [int(spec['env'][name]) for name in ('SANDBOX_PAYLOAD_FD',
                                                            'SANDBOX_CONTROL_FD')
                       if spec['env'].get(name)]

        def reaper():
            nonlocal parent
            parent = _supervise(command_fds)
        attempt('reaper', reaper)
        _die_with(parent)

    def private_root():
        _check(libc.unshare(CLONE['mount']), "unshare mount")
        _build_root(spec)

    attempt('mount', private_root)
    attempt('rlimits', lambda: _apply_rlimits(spec['rlimits']))
    if spec.get('uid') is not None:
        attempt('user', lambda: _drop_to(spec['uid'], spec['gid']))
    attempt('nonewprivs', _no_new_privs)
    if 'nonewprivs' in done or os.geteuid() == 0:
        attempt('seccomp', lambda: _seccomp('net' in done))
    elif 'seccomp' in steps:
        skipped['seccomp'] = 'needs no_new_privs'
    _die_with(parent)  # again: the uid change cleared it
    cwd = spec['cwd'] if 'mount' in done else spec['fallback_cwd']
    try:
        os.chdir(cwd)
    except OSError as err:
        os.write(2, f"sandbox: cannot enter {cwd}: {err}\n".encode())
        os._exit(125)
    report = json.dumps({'done': done, 'skipped': skipped}).encode()
    os.write(spec['status_fd'], report + b'\n')
    # The status descriptor closes itself if exec succeeds, so the command can
    # never write to it; if exec fails, the judge learns why through it.
    os.set_inheritable(spec['status_fd'], False)
    try:
        os.execve(spec['argv'][0], spec['argv'], spec['env'])
    except OSError as err:
        os.write(spec['status_fd'], json.dumps(
            {'exec_error': f"cannot start {spec['argv'][0]}: {err}"}).encode() + b'\n')
        os._exit(126)


if __name__ == '__main__':
    main()
