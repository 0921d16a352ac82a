"""How busy the machine was outside a run: the evidence that a slow run was crowded out.

A run's own processes can make it slow in wall-clock time without using much
CPU: a herd of processes that queue behind each other, threads throttled by
the run's own CPU quota. Their wait for a CPU is the run's own doing, so it is
never evidence that the machine was overloaded. What is: CPU time spent by
everything else on the machine while the run went on, from /proc/stat (all
CPUs' busy time) minus the run's own CPU time. When the others left the run
less than half the share of the CPUs it was entitled to, the machine was
busy; otherwise a run that ran out of wall time did so by itself.
"""
import os

_TICK = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


def busy_seconds(stat='/proc/stat'):
    """CPU seconds every CPU of the machine spent busy since boot (None if unknown)."""
    try:
        with open(stat) as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != 'cpu' or len(fields) < 5:
        return None
    values = [int(v) for v in fields[1:]]
    # user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    guest = sum(values[8:10]) if len(values) > 9 else 0  # counted in user already
    return (sum(values) - idle - guest) / _TICK


def crowded_out(others, wall, cores, share):
    """Whether the rest of the machine left a run less than half its share of the CPUs.

    Args:
        others: CPU seconds used outside the run while it went on (None: unknown).
        wall: the run's wall-clock seconds over the same time.
        cores: CPUs the grader may use; share: how many of them the run was
            entitled to (its quota, or 1).
    """
    if others is None or wall <= 0:
        return False
    left = cores * wall - others
    return left < 0.5 * min(share, cores) * wall
