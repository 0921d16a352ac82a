"""How many CPU cores the grader may use, and how it shares them.

os.cpu_count() counts the host's cores. A container (Gradescope's gives half
a CPU by default) or a taskset may allow far fewer, and work beyond that
quota only takes turns. Every decision about parallelism (batch workers,
BLAS threads, each sandboxed run's CPU quota) starts from usable_cores().
"""
import math
import os
from pathlib import Path


def _quota_cores(cgroup_root):
    """The CPU quota of this process's cgroup in cores (a float), or None."""
    root = Path(cgroup_root)
    candidates = [(root / 'cpu.max', None)]  # cgroup v2: "QUOTA PERIOD" or "max PERIOD"
    for hierarchy in ('cpu', 'cpu,cpuacct', 'cpuacct,cpu'):
        candidates.append((root / hierarchy / 'cpu.cfs_quota_us',
                           root / hierarchy / 'cpu.cfs_period_us'))
    quotas = []
    for quota_file, period_file in candidates:
        try:
            fields = quota_file.read_text().split()
            quota = fields[0]
            period = fields[1] if period_file is None else period_file.read_text().strip()
            if quota not in ('max', '-1') and int(period) > 0:
                quotas.append(int(quota) / int(period))
        except (OSError, ValueError, IndexError):
            continue
    return min(quotas) if quotas else None


def cpu_share(cgroup_root='/sys/fs/cgroup'):
    """The CPU this process may use, in cores (may be fractional, e.g. 0.5).

    Its CPU affinity, capped by a cgroup CPU quota.
    """
    try:
        cores = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cores = float(os.cpu_count() or 1)
    quota = _quota_cores(cgroup_root)
    return min(cores, quota) if quota else cores


def usable_cores(cgroup_root='/sys/fs/cgroup'):
    """Whole cores this process may keep busy: cpu_share() rounded up, at least 1."""
    return max(1, math.ceil(cpu_share(cgroup_root) - 1e-9))


# BLAS threads of each grader process and of its sandboxed runs, unless
# --blas-threads says otherwise. The matrices of this homework (64x784 by
# 784x128) gain little from a second thread on an idle machine, and on a busy
# one OpenBLAS threads spin while they wait: two threads made an epoch 15-25x
# slower under contention (bench/RESULTS.md).
BLAS_THREADS = 1


def worker_share(jobs, cgroup_root='/sys/fs/cgroup'):
    """Cores each of `jobs` workers may use (the CPU quota of its sandboxed runs)."""
    return max(cpu_share(cgroup_root) / max(jobs, 1), 0.1)
