"""What a sandboxed run leaves, or holds, outside its own folders: found by owner.

Without a private filesystem view (a Docker-default container) student code
runs as the sandbox uid on the host's own /tmp, /var/tmp and /dev/shm, and
without an IPC namespace its System V shared memory, queues and semaphores
outlive it too. Anything left there would carry data from one run to the
next (from a unit-test run that sees the public data to the accuracy run
that must not), and anything written there takes disk from every other
grader on the host. So:

- before each run the sandbox takes an `inventory` of what its uid owns
  there (normally nothing; folders lent to the run by the grader count), and
  after it removes the uid's entries that are not in it: only what the run
  created goes, never something it was lent;
- while a run goes, `disk_usage` measures what it holds on disk (in the
  shared folders, in its own folders, and in files it deleted but keeps
  open), so that the sandbox stops a run that takes more than its share;
- a uid that owns anything there when a grader starts is not claimed
  (`owns_anything`, see uids.claim): what it owns was not made by this
  grader's runs, and is never removed.

Every walk goes through directory descriptors without following links
(each folder opened with O_NOFOLLOW relative to its parent's descriptor and
checked to be the one listed; removal relative to the parent's descriptor),
so a path another user swaps under it is skipped, never followed. Other
users' folders are searched only where others may enter them (the uid could
not have reached anything deeper), on each root's filesystem, up to bounds
of entries and depth.
"""
import ctypes
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass

# Where any user may create files on a usual Linux system.
SHARED_DIRS = ('/tmp', '/var/tmp', '/dev/shm', '/run/shm', '/run/lock', '/var/lock',
               '/dev/mqueue')
MAX_VISITED = 100_000
IPC_RMID = 0


@dataclass
class DiskUsage:
    """What a uid holds on disk: bytes allocated, entries (inodes), and whether all was seen.

    complete is False when a walk stopped at its bound (entries visited, or
    MAX_DEPTH): the figures are then a lower bound. too_deep is True when a
    folder tree of the run is nested deeper than MAX_DEPTH (no program needs
    that; it only serves to hide entries from walks).
    """
    bytes: int = 0
    entries: int = 0
    complete: bool = True
    too_deep: bool = False


# Folders nested deeper are not walked (each level holds a descriptor open).
MAX_DEPTH = 64
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _listing(dir_fd, budget):
    """[(name, lstat)] of an open folder's entries, at most budget[0] (counted down)."""
    try:
        with os.scandir(dir_fd) as entries:
            names = [entry.name for entry in entries]
    except OSError:
        return []  # unreadable, or not a real folder (proc, a vanished one)
    found = []
    for name in names:
        if budget[0] <= 0:
            break
        budget[0] -= 1
        try:
            found.append((name, os.stat(name, dir_fd=dir_fd, follow_symlinks=False)))
        except OSError:
            continue
    return found


def _enter(name, dir_fd, info):
    """A descriptor of the subfolder `name`, if it is still the folder `info` describes."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)  # swapped between the look and the open
        return None
    return fd


def _entries(dir_fd, budget, depth=0):
    """Yield the lstat of every entry below an open folder; None once past MAX_DEPTH."""
    for name, info in _listing(dir_fd, budget):
        yield info
        if stat.S_ISDIR(info.st_mode):
            if depth + 1 >= MAX_DEPTH:
                yield None
                continue
            fd = _enter(name, dir_fd, info)
            if fd is not None:
                try:
                    yield from _entries(fd, budget, depth + 1)
                finally:
                    os.close(fd)


def _owned(uid, roots, budget):
    """Yield (dir_fd, name, lstat) of each top-most entry owned by uid under roots.

    A folder the uid owns is yielded, not entered; a folder of another user
    is entered where others may enter it, on the root's filesystem only and
    MAX_DEPTH deep at most. budget is a one-item list counting down the
    entries visited; at 0 the walk stops (the caller sees it).
    """
    def walk(dir_fd, device, depth):
        for name, info in _listing(dir_fd, budget):
            if info.st_uid == uid:
                yield dir_fd, name, info
            elif (stat.S_ISDIR(info.st_mode) and info.st_mode & 0o001
                  and info.st_dev == device and depth + 1 < MAX_DEPTH):
                fd = _enter(name, dir_fd, info)  # others may enter it: the uid may have
                if fd is not None:
                    try:
                        yield from walk(fd, device, depth + 1)
                    finally:
                        os.close(fd)

    for root in roots:
        try:
            fd = os.open(root, _DIR_FLAGS)
        except OSError:
            continue
        try:
            yield from walk(fd, os.fstat(fd).st_dev, 0)
        finally:
            os.close(fd)


def inventory(uid, roots=SHARED_DIRS, limit=MAX_VISITED):
    """(st_dev, st_ino) of every top-most entry uid owns under roots."""
    return frozenset((info.st_dev, info.st_ino) for _, _, info in _owned(uid, roots, [limit]))


def owns_anything(uid, roots=SHARED_DIRS, limit=MAX_VISITED, proc='/proc'):
    """Whether uid owns a file under roots or a System V IPC object."""
    for _ in _owned(uid, roots, [limit]):
        return True
    return bool(_ipc_of(uid, proc))


def _remove(dir_fd, name, info):
    """Remove one entry of an open folder; a folder with all it holds. True if it went."""
    try:
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(name, dir_fd=dir_fd)
            return True
        try:
            shutil.rmtree(name, dir_fd=dir_fd)
            return True
        except RecursionError:
            pass  # nested deeper than Python recurses: rm walks any depth
        subprocess.run(['rm', '-rf', '--one-file-system', '--', name],
                       cwd=f'/proc/self/fd/{dir_fd}', pass_fds=(dir_fd,), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
                       check=False)
        return not os.path.lexists(f'/proc/self/fd/{dir_fd}/{name}')
    except (OSError, subprocess.SubprocessError):
        return False


def remove_files_of(uid, roots=SHARED_DIRS, limit=MAX_VISITED, keep=frozenset()):
    """Remove every top-most entry owned by uid under roots but those in keep.

    keep: (st_dev, st_ino) pairs (an inventory taken before the run); a kept
    folder is left whole. Returns how many entries went. Call it once every
    process of the uid is dead.
    """
    removed = 0
    for dir_fd, name, info in _owned(uid, roots, [limit]):
        if (info.st_dev, info.st_ino) not in keep:
            removed += _remove(dir_fd, name, info)
    return removed


def _open_but_deleted(pids, seen, usage):
    """Add the regular files the processes hold open after deleting them."""
    for pid in pids:
        try:
            fds = os.listdir(f'/proc/{pid}/fd')
        except OSError:
            continue
        for fd in fds:
            try:
                info = os.stat(f'/proc/{pid}/fd/{fd}')  # the open file itself
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:
                _count(info, seen, usage)


def _count(info, seen, usage):
    key = (info.st_dev, info.st_ino)
    if key not in seen:
        seen.add(key)
        usage.bytes += info.st_blocks * 512
        usage.entries += 1


def disk_usage(uid, roots=SHARED_DIRS, own=(), pids=(), keep=frozenset(), limit=MAX_VISITED):
    """DiskUsage of what a run holds: its entries under roots, its own folders, deleted files.

    Args:
        uid: the run's uid, or None (then roots are not searched: the run's
            user is the grader's own).
        roots: shared folders searched for the uid's entries (not those in keep).
        own: folders the run writes (its working folder, writable mounts),
            counted whole, whoever owns what is inside.
        pids: the run's processes, whose open but deleted files count too.
        keep: (st_dev, st_ino) of entries lent to the run before it started.
        limit: entries visited at most, over all walks.
    """
    usage, seen, budget = DiskUsage(), set(), [limit]

    def whole(fd):
        for info in _entries(fd, budget):
            if info is None:
                usage.too_deep, usage.complete = True, False
            else:
                _count(info, seen, usage)

    if uid is not None:
        for dir_fd, name, info in _owned(uid, roots, budget):
            if (info.st_dev, info.st_ino) in keep:
                continue
            _count(info, seen, usage)
            if stat.S_ISDIR(info.st_mode):
                fd = _enter(name, dir_fd, info)
                if fd is not None:
                    try:
                        whole(fd)
                    finally:
                        os.close(fd)
    for folder in own:
        try:
            fd = os.open(folder, _DIR_FLAGS)
        except OSError:
            continue
        try:
            whole(fd)
        finally:
            os.close(fd)
    _open_but_deleted(pids, seen, usage)
    if budget[0] <= 0:
        usage.complete = False
    return usage


def free_bytes(folders):
    """Bytes free to unprivileged users on the filesystems of folders (each counted once).

    A cheap reading (statfs) that the sandbox takes often: a drop tells it to
    measure disk_usage at once rather than at its next turn.
    """
    total, seen = 0, set()
    for folder in folders:
        try:
            device = os.stat(folder).st_dev
            if device in seen:
                continue
            info = os.statvfs(folder)
        except OSError:
            continue
        seen.add(device)
        total += info.f_bavail * info.f_frsize
    return total


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
