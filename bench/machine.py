"""What machine the numbers came from."""
import datetime
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

from . import core


def _cpuinfo():
    info = {}
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            key, _, value = line.partition(':')
            key = key.strip()
            if key in ('model name', 'flags', 'cpu MHz') and key not in info:
                info[key] = value.strip()
    except OSError:
        pass
    flags = set(info.get('flags', '').split())
    simd = [f for f in ('sse4_2', 'avx', 'avx2', 'fma', 'avx512f') if f in flags]
    return info.get('model name') or platform.processor() or platform.machine(), simd


def _memory_total():
    try:
        for line in Path('/proc/meminfo').read_text().splitlines():
            if line.startswith('MemTotal:'):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return None


def _blas():
    import numpy as np

    try:
        config = np.show_config(mode='dicts')
        blas = config['Build Dependencies']['blas']
        text = f"{blas.get('name')} {blas.get('version')}"
        if blas.get('openblas configuration'):
            text += f" ({' '.join(blas['openblas configuration'].split())})"
    except Exception:  # older numpy: no dicts mode
        text = 'unknown'
    try:
        from threadpoolctl import threadpool_info
        pools = ', '.join(f"{p['internal_api']} {p.get('version')} {p['num_threads']} threads"
                          f" ({p.get('architecture')})" for p in threadpool_info())
        text += f"; at run time: {pools}"
    except ImportError:
        pass
    return text


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git():
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=core.KIT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--', 'solutions', 'bench'],
                               cwd=core.KIT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return f"{head}{' + uncommitted changes' if dirty else ''}" if head else None
    except (OSError, subprocess.SubprocessError):
        return None


def describe():
    import numpy as np

    model, simd = _cpuinfo()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    env = {k: os.environ[k] for k in core.THREAD_VARS + ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')
           if k in os.environ}
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'cpu': model,
        'simd': ' '.join(simd),
        'cores': os.cpu_count(),
        'usable_cores': usable,
        'memory': _memory_total(),
        'os': platform.platform(),
        'python': f"{platform.python_implementation()} {platform.python_version()}",
        'numpy': np.__version__,
        'blas': _blas(),
        'torch': _version('torch'),
        'blas_env': env,
        'kit': _git(),
        'loadavg_start': core.loadavg(),
    }


def lines(machine):
    """The machine as Markdown bullet lines."""
    items = [
        ('Date (UTC)', machine['date']),
        ('CPU', f"{machine['cpu']} ({machine['simd']})"),
        ('Cores', f"{machine['cores']} ({machine['usable_cores']} usable)"),
        ('Memory', machine['memory']),
        ('OS', machine['os']),
        ('Python', machine['python']),
        ('numpy', machine['numpy']),
        ('BLAS', machine['blas']),
        ('PyTorch', machine['torch'] or 'not installed'),
        ('Thread variables set', ', '.join(f'{k}={v}' for k, v in machine['blas_env'].items())
         or 'none (library defaults)'),
        ('Kit', machine['kit']),
        ('Load average (1, 5, 15 min) at start / end, the benchmark\'s own work included',
         f"{machine.get('loadavg_start')} / {machine.get('loadavg_end')}"),
    ]
    for section, (seconds, share) in machine.get('other_work_by_section', {}).items():
        items.append((f'Other work during the {section} section',
                      f"{seconds:.1f} CPU s ({100 * share:.1f}% of the cores' time)"))
    return [f"- {k}: {v}" for k, v in items if v is not None]
