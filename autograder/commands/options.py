"""What several subcommands share: argument types and the grading options."""
import argparse
from pathlib import Path

from ..exits import UsageError
from ..untrusted import name as shown


def output_folder(value, what='--out'):
    """value as a folder to write into (it may not exist yet); UsageError if it is a file."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {shown(path)} is a file; give a folder")
    return path


def output_file(value, what='--out'):
    """value as a file to write; UsageError if it is a folder."""
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{what} {shown(path)} is a folder; give a file name, e.g. "
                         f"{shown(path / 'out.zip')}")
    return path


def memory(text):
    """sandbox.Limits fields from --memory (e.g. 1.5G), or {} when not given."""
    if not text:
        return {}
    units = {'K': 2**10, 'M': 2**20, 'G': 2**30}
    raw = text.strip().upper().rstrip('B')
    try:
        size = int(float(raw[:-1]) * units[raw[-1]]) if raw[-1:] in units else int(raw)
    except (ValueError, IndexError):
        raise UsageError(f"--memory {text!r}: give a size like 1.5G or 800M") from None
    if size < 64 * 2**20:
        raise UsageError(f"--memory {text!r}: at least 64M")
    # The address-space rlimit stays below the cgroup's limit (see sandbox.Limits).
    return {'memory_bytes': size, 'address_space_bytes': size * 5 // 6}


def limits(args, jobs=1):
    """sandbox.Limits fields from the grading options, for `jobs` workers."""
    from ..grading.sandbox.cores import BLAS_THREADS, worker_share
    if args.blas_threads is not None and args.blas_threads < 1:
        raise UsageError("--blas-threads must be at least 1")
    return dict(memory(args.memory), blas_threads=args.blas_threads or BLAS_THREADS,
                cpu_cores=round(worker_share(jobs), 2))


def seconds(text):
    """argparse type of --time-limit: a positive number of seconds, or 'none' (None)."""
    if text.strip().lower() == 'none':
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float('inf'):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds "
                                         f"(or 'none')")
    return value


def grading_options(parser):
    """--only, --scaffold, --time-limit, --rubric, --memory, --blas-threads."""
    from ..grading.grader import TIME_LIMIT
    parser.add_argument('--only', action='append', metavar='GLOB',
                        help="run only the tests whose id matches (repeatable), "
                             "e.g. 'two_layer.*'")
    parser.add_argument('--scaffold', metavar='NAME',
                        help="grade by what this scaffold of autograder/scaffolds.yaml asks "
                             "(kit or course) instead of the one detected from each "
                             "submission's files")
    parser.add_argument('--time-limit', type=seconds, default=TIME_LIMIT, metavar='SECONDS',
                        help=f"wall-clock limit of one submission's grading: student code still "
                             f"running then is stopped and its unfinished tests fail with that "
                             f"reason, so results are written in time (default {TIME_LIMIT:g}, "
                             f"as on Gradescope, so verdicts agree; 'none' for no limit)")
    parser.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")
    parser.add_argument('--memory', help="memory limit of each sandboxed run, e.g. 1.5G "
                                         "(default 3G)")
    parser.add_argument('--blas-threads', type=int, metavar='N',
                        help="BLAS threads of each sandboxed run (default 1: more gain little "
                             "for these matrices and hurt badly on a busy machine)")
