"""How many CPU cores the grader may use, and how it shares them.

os.cpu_count() counts the host's cores. A container (Gradescope's gives half
a CPU by default) or a taskset may allow far fewer, and work beyond that
quota only takes turns. Every decision about parallelism (batch workers,
BLAS threads, each sandboxed run's CPU quota) starts from usable_cores().
"""
import math
import os
from pathlib import Path

from .cgroups import own_groups


def _quota_of(quota_file, period_file=None):
    """Cores allowed by one cgroup's quota file (v2 cpu.max, or v1 cfs_quota_us with its
    period file), or None when unlimited or unreadable."""
    try:
        fields = Path(quota_file).read_text().split()
        quota = fields[0]
        period = fields[1] if period_file is None else Path(period_file).read_text().strip()
        if quota not in ('max', '-1') and int(period) > 0:
            return int(quota) / int(period)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _own_groups_quota_files(mountinfo='/proc/self/mountinfo',
                            cgroup_file='/proc/self/cgroup'):
    """(quota file, period file or None) of this process's own cpu cgroup and of each of
    its ancestors up to the mount point, both layouts.

    A quota anywhere on that path caps the process; the root of the mount is
    what a container's namespaced view shows, but a grader placed in a group
    of its own (a systemd slice, a batch system, a nested container) has its
    quota further down.
    """
    groups = own_groups(mountinfo, cgroup_file, controllers=('cpu',))
    places = [(groups['v2'], True)] if groups['v2'] else []
    if 'cpu' in groups['v1']:
        places.append((groups['v1']['cpu'], False))
    files = []
    for (point, folder), v2 in places:
        while True:
            files.append((folder / 'cpu.max', None) if v2 else
                         (folder / 'cpu.cfs_quota_us', folder / 'cpu.cfs_period_us'))
            if folder == point or point not in folder.parents:
                break
            folder = folder.parent
    return files


def _quota_cores(cgroup_root, mountinfo=None, cgroup_file=None):
    """The smallest CPU quota in cores (a float) that applies to this process, or None.

    Read at the root of `cgroup_root` (what a container shows as its own), and,
    when mountinfo and cgroup_file are given, in the process's own groups and
    their ancestors.
    """
    root = Path(cgroup_root)
    candidates = [(root / 'cpu.max', None)]  # cgroup v2: "QUOTA PERIOD" or "max PERIOD"
    for hierarchy in ('cpu', 'cpu,cpuacct', 'cpuacct,cpu'):
        candidates.append((root / hierarchy / 'cpu.cfs_quota_us',
                           root / hierarchy / 'cpu.cfs_period_us'))
    if mountinfo and cgroup_file:
        candidates += _own_groups_quota_files(mountinfo, cgroup_file)
    quotas = [q for q in (_quota_of(*c) for c in candidates) if q]
    return min(quotas) if quotas else None


CGROUP_ROOT = '/sys/fs/cgroup'


def cpu_share(cgroup_root=CGROUP_ROOT, mountinfo=None, cgroup_file=None):
    """The CPU this process may use, in cores (may be fractional, e.g. 0.5).

    Its CPU affinity, capped by the smallest cgroup CPU quota found at the root
    of `cgroup_root` or on the path of its own cgroup and its ancestors
    (mountinfo and cgroup_file say where that is: by default this process's
    /proc/self files when cgroup_root is the real one, none for another root).
    """
    try:
        cores = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cores = float(os.cpu_count() or 1)
    if mountinfo is None and cgroup_file is None and str(cgroup_root) == CGROUP_ROOT:
        mountinfo, cgroup_file = '/proc/self/mountinfo', '/proc/self/cgroup'
    quota = _quota_cores(cgroup_root, mountinfo, cgroup_file)
    return min(cores, quota) if quota else cores


def usable_cores(cgroup_root=CGROUP_ROOT):
    """Whole cores this process may keep busy: cpu_share() rounded up, at least 1."""
    return max(1, math.ceil(cpu_share(cgroup_root) - 1e-9))


# BLAS threads of each grader process and of its sandboxed runs, unless
# --blas-threads says otherwise. The matrices of this homework (64x784 by
# 784x128) gain little from a second thread on an idle machine, and on a busy
# one OpenBLAS threads spin while they wait: two threads made an epoch 15-25x
# slower under contention (bench/RESULTS.md).
BLAS_THREADS = 1


def worker_share(jobs, cgroup_root=CGROUP_ROOT):
    """Cores each of `jobs` workers may use (the CPU quota of its sandboxed runs)."""
    return max(cpu_share(cgroup_root) / max(jobs, 1), 0.1)
