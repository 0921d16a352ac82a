"""Grading: one submission end to end by stage; submissions per minute with -j 1 and -j 2."""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.sandbox import blas_threads  # the grader's own threads rule

from . import core

SECTION = 'grading'
STAGES = ('intake', 'workspace', 'data preparation', 'function tests', 'gradient tests',
          'accuracy training', 'report')
BUDGET = 30.0  # seconds for one submission on 2 cores
# --quick grades a few cheap tests only: one of each kind but the accuracy training.
QUICK_ONLY = ['activations.sigmoid', 'softmax.values', 'softmax_regression.gradients']


def submitted_files(solutions):
    listing = (solutions / 'submission_files.txt').read_text().splitlines()
    return [line.strip() for line in listing
            if line.strip() and not line.startswith('#') and '*' not in line]


def make_submissions(folder, count, solutions=core.SOLUTIONS):
    """`count` zips built by collect_submission.sh from the reference solution.

    Each differs by one comment line in utils.py, so that no two are the same
    file (a batch flags identical submissions).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    zips = []
    for k in range(1, count + 1):
        with tempfile.TemporaryDirectory(prefix='bench-submission-') as package:
            package = Path(package)
            for rel in submitted_files(solutions) + ['submission_files.txt']:
                target = package / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(solutions / rel, target)
            with open(package / 'utils.py', 'a') as f:
                f.write(f"# benchmark submission {k}\n")
            out = folder / f'student{k:02d}.zip'
            done = subprocess.run(['bash', str(core.KIT / 'collect_submission.sh'), '-o',
                                   str(out)], cwd=package, capture_output=True, text=True,
                                  timeout=120)
            if done.returncode != 0 or not out.exists():
                raise RuntimeError(f"collect_submission.sh failed: {done.stderr.strip()}")
            zips.append(out)
    return zips


def _grade_argv(target, out, only, jobs=None, threads=None):
    argv = [sys.executable, '-m', 'autograder', 'grade', str(target), '--out', str(out), '-q']
    if jobs is not None:
        argv += ['-j', str(jobs)]
    if threads is not None:
        argv += ['--blas-threads', str(threads)]
    for pattern in only or ():
        argv += ['--only', pattern]
    return argv


def grade_one(zip_path, out, only):
    """`autograder grade ZIP --out OUT -q`: (summary.json's seconds, Child)."""
    child = core.run_child(_grade_argv(zip_path, out, only), env=core.child_env(),
                           timeout=900)
    if child.returncode != 0:
        raise RuntimeError(f"autograder grade exited {child.returncode}: {child.stderr[-800:]}")
    summary = json.loads((Path(out) / 'summary.json').read_text())
    if summary['score'] != summary['max_score']:
        raise RuntimeError(f"the reference scored {summary['score']}/{summary['max_score']}: "
                           f"{summary['tests']}")
    return summary['seconds'], child


def batch_available():
    """Whether `autograder grade` takes a folder of submissions with -j."""
    done = subprocess.run([sys.executable, '-m', 'autograder', 'grade', '--help'],
                          cwd=core.KIT, capture_output=True, text=True, timeout=60)
    return '--jobs' in done.stdout or ' -j ' in done.stdout


def grade_batch(folder, out, jobs, only, threads=None):
    """`autograder grade FOLDER --out OUT -j N -q`: (wall seconds, Child, batch.json)."""
    child = core.run_child(_grade_argv(folder, out, only, jobs, threads), env=core.child_env(),
                           timeout=3600, sample_memory=True)
    if child.returncode != 0:
        raise RuntimeError(f"autograder grade -j {jobs} exited {child.returncode}: "
                           f"{child.stderr[-800:]}")
    document = json.loads((Path(out) / 'batch.json').read_text())
    bad = [s for s in document['students'] if s['status'] not in ('graded', 'duplicate')
           or s['score'] != s['max_score']]
    if bad:
        raise RuntimeError(f"batch -j {jobs}: not every submission got full marks: {bad}")
    return child.seconds, child, document


def _workers(child):
    """Peak resident memory (VmHWM) of each batch worker process seen in /proc: the
    children of the `autograder grade` process that multiprocessing started (not its
    resource tracker)."""
    graders = {pid for pid, (cmdline, _, ppid) in child.samples.items()
               if ppid == child.pid and 'autograder' in cmdline}
    return [hwm for cmdline, hwm, ppid in child.samples.values()
            if ppid in graders and 'multiprocessing' in cmdline
            and 'resource_tracker' not in cmdline]


def run(settings):
    quick = settings.quick
    only = QUICK_ONLY if quick else None
    scope = (f"--only {' '.join(QUICK_ONLY)} (--quick)" if quick
             else "every test of the rubric")
    work = Path(tempfile.mkdtemp(prefix='bench-grading-'))
    rows, memory = [], {}
    try:
        # A class is hundreds of submissions: a batch's fixed costs (start-up, the
        # class report, the last worker finishing alone) belong in the rate, but
        # should weigh no more than in a real class, so the full run grades 8.
        count = 2 if quick else 8
        settings.say(f"grading: building {count} submissions")
        zips = make_submissions(work / 'submissions', count, settings.solutions)
        # Warm-up: the judge computes the reference's answers once and caches them
        # (build/autograder-cache/); every timed run below finds them there. --quick
        # skips it: its few tests cost little even when the cache is cold.
        warm = None
        if not quick:
            settings.say("grading: warm-up run (fills the reference cache)")
            warm, _ = grade_one(zips[0], work / 'warm', only)
        singles, children = [], []
        repeats = 1 if quick else settings.rounds
        for r in range(repeats):
            settings.say(f"grading: one submission, run {r + 1}/{repeats}")
            seconds, child = grade_one(zips[r % len(zips)], work / f'single{r}', only)
            singles.append(seconds)
            children.append(child)
        total = core.summary([s['total'] for s in singles])
        cache = (f"reference answers cached (the warm-up run before took {warm['total']:.1f} s)"
                 if warm else "no warm-up run (--quick)")
        note = (f"`autograder grade ZIP --out DIR -q`, {scope}, {cache}; seconds from "
                f"DIR/summary.json.")
        rows.append(core.row(SECTION, 'one submission, total', 's', total,
                             core.summary([BUDGET]), f'budget: {BUDGET:g} s (not a measurement)',
                             target=('<=', 1.0, f'under {BUDGET:g} s'), note=note))
        for stage in STAGES:
            name = f'one submission, stage: {stage}'
            if all(stage not in s for s in singles):
                rows.append(core.row(SECTION, name, 's', None, status='skipped',
                                     note=f"no test of this stage ran ({scope})"))
            else:
                values = [s.get(stage, 0.0) for s in singles]
                rows.append(core.row(SECTION, name, 's', core.summary(values), total,
                                     'the total', note="The ratio is the stage's share of "
                                     "the total."))
        memory['single'] = max(c.max_rss for c in children)

        if not batch_available():
            for name in ('batch -j 1', 'batch -j 2', 'batch -j 2 vs -j 1 at equal BLAS threads'):
                rows.append(core.row(SECTION, f'{name}, submissions per minute', 'subs/min',
                                     None, status='skipped',
                                     note="not measured: this autograder has no batch mode "
                                          "(`autograder grade FOLDER --out OUT -j N`)"))
            return rows, memory
        # -j 1 and -j 2 with the grader's default BLAS threads (cores // jobs), and
        # -j 1 with one thread: the same threads per worker as -j 2, so that the
        # last ratio is scaling alone and the one before it what a user gains.
        variants = {'j1': (1, None), 'j2': (2, None), 'j1t1': (1, 1)}
        rates = {name: [] for name in variants}
        batch_rounds = 1 if quick else max(1, settings.rounds // 2)
        order = ['j1', 'j2', 'j1t1', 'j1t1', 'j2', 'j1'] * batch_rounds  # drifts cancel out
        if quick:
            order = ['j1', 'j2', 'j1t1']
        workers = []
        for k, name in enumerate(order):
            jobs, threads = variants[name]
            label = f"-j {jobs}" + (f" --blas-threads {threads}" if threads else '')
            settings.say(f"grading: batch of {count} with {label} ({k + 1}/{len(order)})")
            seconds, child, _ = grade_batch(work / 'submissions', work / f'batch{k}', jobs, only,
                                            threads)
            rates[name].append(60.0 * count / seconds)
            if name == 'j2':
                workers += _workers(child)
                memory['batch_tree'] = max(memory.get('batch_tree', 0), child.peak_tree_rss)
        memory['workers'] = workers
        single_rate = core.summary([60.0 / s['total'] for s in singles])
        runs = f"runs in the order {', '.join(order)}"
        rows.append(core.row(
            SECTION, 'batch -j 1, submissions per minute', 'subs/min', core.summary(rates['j1']),
            single_rate, 'one `autograder grade ZIP` at a time (60 / total)', better='higher',
            note=f"`autograder grade FOLDER --out OUT -j 1 -q` on {count} submissions "
                 f"({blas_threads(1)} BLAS threads, the default cores // jobs), wall time of the "
                 f"whole command (start-up and class report included), {scope}. The baseline "
                 f"leaves out each command's start-up."))
        rows.append(core.row(
            SECTION, 'batch -j 2, submissions per minute', 'subs/min', core.summary(rates['j2']),
            core.summary(rates['j1']), 'batch -j 1, same submissions', better='higher',
            target=('>=', 1.8, 'at least 1.8x -j 1'),
            note=f"Same {count} submissions, fresh output folder each run, each worker "
                 f"{blas_threads(2)} BLAS thread(s) (cores // jobs); {runs}. -j 1 already "
                 f"keeps more than one core busy through its BLAS threads, so this is what a "
                 f"second worker adds to the fastest -j 1."))
        rows.append(core.row(
            SECTION, 'batch -j 2 vs -j 1 at equal BLAS threads, submissions per minute',
            'subs/min', core.summary(rates['j2']), core.summary(rates['j1t1']),
            'batch -j 1 --blas-threads 1, same submissions', better='higher',
            note=f"Scaling alone: every worker has {blas_threads(2)} BLAS thread(s) in "
                 f"both; {runs}."))
        return rows, memory
    except Exception as err:  # the rows measured so far, and the reason the rest is missing
        rows.append(core.failed(SECTION, 'grading', 's', err))
        return rows, memory
    finally:
        shutil.rmtree(work, ignore_errors=True)
