"""What a sandboxed run can leave outside its own folders, found by owner and removed.

Without a private filesystem view (a Docker-default container) student code
runs as the sandbox uid on the host's own /tmp, /var/tmp and /dev/shm, and
without an IPC namespace its System V shared memory, queues and semaphores
outlive it too. Anything left there would carry data from one run to the
next: from a unit-test run that sees the public data to the accuracy run
that must not, or from one student to the next graded by the same worker
(who gets the same uid), and it fills the host's disk. After every run,
once every process of the uid is dead, everything the uid owns there is
removed.

Only entries owned by the uid are removed; nothing is followed through a
symbolic link. A directory the uid owns goes as a whole (shutil.rmtree does
not follow links); other directories are only searched, where others may
enter them (the uid could not have reached anything deeper), up to a bound.
"""
import ctypes
import os
import shutil
import stat
import subprocess

# Where any user may create files on a usual Linux system.
SHARED_DIRS = ('/tmp', '/var/tmp', '/dev/shm', '/run/shm', '/run/lock', '/var/lock',
               '/dev/mqueue')
MAX_VISITED = 100_000
IPC_RMID = 0


def _remove(path, info):
    try:
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
        return 1
    except OSError:
        return 0


def remove_files_of(uid, roots=SHARED_DIRS, limit=MAX_VISITED):
    """Remove every entry owned by uid under the shared folders; return how many went."""
    removed, visited = 0, 0
    todo = []
    for root in roots:
        try:
            info = os.lstat(root)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            todo.append(root)
    while todo and visited < limit:
        folder = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            visited += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                removed += _remove(entry.path, info)
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o001:
                todo.append(entry.path)  # others may enter it: the uid may have, too
    return removed


def _ipc_of(uid, proc):
    """[(kind, id)] of the System V IPC objects owned or created by uid."""
    found = []
    for kind, column in (('shm', 'shmid'), ('msg', 'msqid'), ('sem', 'semid')):
        try:
            with open(f'{proc}/sysvipc/{kind}') as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        columns = lines[0].split() if lines else []
        for line in lines[1:]:
            row = dict(zip(columns, line.split()))
            ident = row.get(column, '')
            if str(uid) in (row.get('uid'), row.get('cuid')) and ident.isdigit():
                found.append((kind, int(ident)))
    return found


def remove_ipc_of(uid, proc='/proc'):
    """Remove the System V IPC objects (shm, msg, sem) owned or created by uid.

    Removed by ipcrm running as that uid (its owner or creator may remove an
    object; root without CAP_SYS_ADMIN, as in Docker, may not), then by root
    for any that remain. Returns how many are left.
    """
    found = _ipc_of(uid, proc)
    ipcrm = shutil.which('ipcrm', path='/usr/bin:/bin')
    if found and ipcrm:
        flags = {'shm': '-m', 'msg': '-q', 'sem': '-s'}
        argv = [ipcrm] + [word for kind, ident in found for word in (flags[kind], str(ident))]
        subprocess.run(argv, user=uid, group=uid, extra_groups=[], cwd='/', env={},
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False, timeout=30)
        found = _ipc_of(uid, proc)
    if found:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return len(found)
        for kind, ident in found:
            if kind == 'sem':
                libc.semctl(ident, 0, IPC_RMID, 0)
            else:
                getattr(libc, kind + 'ctl')(ident, IPC_RMID, None)
        found = _ipc_of(uid, proc)
    return len(found)
