"""Grading: one submission end to end by stage; submissions per minute with -j 1 and -j 2."""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.grading.intake import Allowlist
from autograder.grading.sandbox.cores import BLAS_THREADS  # the grader's default

from . import core

SECTION = 'grading'


def _stages():
    """The stages of summary.json's seconds, in the order they run: intake, workspace,
    data preparation, the catalogue's test stages, report."""
    from autograder.catalogue import load_catalogue
    return ('intake', 'workspace', 'data preparation', *load_catalogue().stages, 'report')


STAGES = _stages()
BUDGET = 30.0  # seconds for one submission on 2 cores
# --quick grades a few cheap tests only: one of each kind but the accuracy training.
QUICK_ONLY = ['activations.sigmoid', 'softmax.values', 'softmax_regression.gradients']


def submitted_files(solutions):
    """The required files of a package (submission_files.txt, read as the grader reads it)."""
    return list(Allowlist.read(Path(solutions) / 'submission_files.txt').required)


def make_submissions(folder, count, solutions=core.SOLUTIONS, changes=None, name='student'):
    """`count` zips built by collect_submission.sh from the reference solution.

    Args:
        folder: where the zips go (created).
        count: how many.
        solutions: the package folder they are made from.
        changes: {relative path: [(old text, new text)]} applied to every copy
            (each old text must occur: a broken submission never edits nothing).
        name: the zips are NAME01.zip, NAME02.zip, ...

    Returns:
        [Path] of the zips. Each differs by one comment line in utils.py, so
        that no two are the same file (a batch flags identical submissions).
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
            for rel, edits in (changes or {}).items():
                text = (package / rel).read_text()
                for old, new in edits:
                    if old not in text:
                        raise RuntimeError(f"{rel}: {old!r} not found in the solutions")
                    text = text.replace(old, new)
                (package / rel).write_text(text)
            with open(package / 'utils.py', 'a') as f:
                f.write(f"# benchmark submission {k}\n")
            out = folder / f'{name}{k:02d}.zip'
            done = subprocess.run(['bash', str(core.KIT / 'collect_submission.sh'), '-o',
                                   str(out)], cwd=package, capture_output=True, text=True,
                                  timeout=120)
            if done.returncode != 0 or not out.exists():
                raise RuntimeError(f"collect_submission.sh failed: {done.stderr.strip()}")
            zips.append(out)
    return zips


def grade_argv(target, out, only=None, jobs=None, threads=None, memory=None):
    """The command that grades: `autograder grade ZIP --out OUT -q` for one submission
    (jobs None), `autograder batch FOLDER --out OUT -j N -q` for a folder of them; with
    --blas-threads, --memory and --only when given."""
    if jobs is None:
        argv = [sys.executable, '-m', 'autograder', 'grade', str(target), '--out', str(out),
                '-q']
    else:
        argv = [sys.executable, '-m', 'autograder', 'batch', str(target), '--out', str(out),
                '-j', str(jobs), '-q']
    if threads is not None:
        argv += ['--blas-threads', str(threads)]
    if memory is not None:
        argv += ['--memory', str(memory)]
    for pattern in only or ():
        argv += ['--only', pattern]
    return argv


def read_summary(out):
    """OUT/summary.json of a graded submission, as a dict."""
    return json.loads((Path(out) / 'summary.json').read_text())


def grade_one(zip_path, out, only, wrap=None, memory=None, expect_full=True,
              sample_memory=False):
    """Grade one zip with `autograder grade`; (summary.json, Child).

    Args:
        wrap: a function of the argv that returns the argv to run (e.g. a
            container.Container's wrap), or None.
        memory: --memory of the grader (each sandboxed run's limit), or None.
        expect_full: raise unless the submission scored full marks.
        sample_memory: sample /proc for every process of the tree (core.run_child).

    Raises:
        RuntimeError: the grader exited non-zero, or expect_full and it did not
            score full marks (the summary's status, reason and scores say why).
    """
    argv = grade_argv(zip_path, out, only, memory=memory)
    child = core.run_child(wrap(argv) if wrap else argv, env=core.child_env(), timeout=1800,
                           sample_memory=sample_memory)
    if child.returncode != 0:
        raise RuntimeError(f"autograder grade exited {child.returncode}: {child.stderr[-800:]}")
    summary = read_summary(out)
    if expect_full and summary['score'] != summary['max_score']:
        raise RuntimeError(f"the reference scored {summary['score']}/{summary['max_score']} "
                           f"({summary['status']}: {summary.get('reason')}): "
                           f"{summary['tests']}")
    return summary, child


def batch_available():
    """Whether this autograder has `autograder batch FOLDER --out OUT -j N`."""
    done = subprocess.run([sys.executable, '-m', 'autograder', 'batch', '--help'],
                          cwd=core.KIT, capture_output=True, text=True, timeout=60)
    return done.returncode == 0 and '--jobs' in done.stdout


def grade_batch(folder, out, jobs, only, threads=None):
    """`autograder batch FOLDER --out OUT -j N -q`: (wall seconds, Child, batch.json)."""
    child = core.run_child(grade_argv(folder, out, only, jobs, threads), env=core.child_env(),
                           timeout=3600, sample_memory=True)
    if child.returncode != 0:
        raise RuntimeError(f"autograder batch -j {jobs} exited {child.returncode}: "
                           f"{child.stderr[-800:]}")
    document = json.loads((Path(out) / 'batch.json').read_text())
    bad = [s for s in document['students'] if s['status'] not in ('graded', 'duplicate')
           or s['score'] != s['max_score']]
    if bad:
        raise RuntimeError(f"batch -j {jobs}: not every submission got full marks: {bad}")
    return child.seconds, child, document


def _workers(child):
    """Peak resident memory (VmHWM) of each batch worker process seen in /proc: the
    children of the `autograder batch` process that multiprocessing started (not its
    resource tracker)."""
    graders = {pid for pid, (cmdline, _, ppid) in child.samples.items()
               if ppid == child.pid and 'autograder' in cmdline}
    return [hwm for cmdline, hwm, ppid in child.samples.values()
            if ppid in graders and 'multiprocessing' in cmdline
            and 'resource_tracker' not in cmdline]


def run(settings):
    """The grading rows and the memory the grading processes used.

    Returns:
        (rows, memory): memory holds 'single' (ru_maxrss of `autograder grade`,
        bytes), 'workers' (VmHWM of each -j 2 worker) and 'batch_tree' (the
        largest total resident memory of a -j 2 batch's process tree).
    """
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
        # Warm-up: the grader builds the course's CSV files and matplotlib's font
        # cache once, in its cache (build/autograder-cache/); every timed run below
        # finds them there. --quick skips it: its few tests need neither.
        warm = None
        if not quick:
            settings.say("grading: warm-up run (fills the grader's cache)")
            warm, _ = grade_one(zips[0], work / 'warm', only)
            warm = warm['seconds']
        singles, children = [], []
        repeats = 1 if quick else settings.rounds
        for r in range(repeats):
            settings.say(f"grading: one submission, run {r + 1}/{repeats}")
            summary, child = grade_one(zips[r % len(zips)], work / f'single{r}', only)
            singles.append(summary['seconds'])
            children.append(child)
        total = core.summary([s['total'] for s in singles])
        cache = (f"the grader's cache filled (the warm-up run before took {warm['total']:.1f} s)"
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
            for name in ('batch -j 1', 'batch -j 2', 'batch -j 1, 2 BLAS threads vs 1'):
                rows.append(core.row(SECTION, f'{name}, submissions per minute', 'subs/min',
                                     None, status='skipped',
                                     note="not measured: this autograder has no batch mode "
                                          "(`autograder batch FOLDER --out OUT -j N`)"))
            return rows, memory
        # -j 1 and -j 2 with the grader's default BLAS threads (one per process, whatever
        # -j), and -j 1 with two: what a second thread adds to a lone worker.
        variants = {'j1': (1, None), 'j2': (2, None), 'j1t2': (1, 2)}
        rates = {name: [] for name in variants}
        batch_rounds = 1 if quick else max(1, settings.rounds // 2)
        order = ['j1', 'j2', 'j1t2', 'j1t2', 'j2', 'j1'] * batch_rounds  # drifts cancel out
        if quick:
            order = ['j1', 'j2', 'j1t2']
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
            note=f"`autograder batch FOLDER --out OUT -j 1 -q` on {count} submissions "
                 f"({BLAS_THREADS} BLAS thread per sandboxed run, the grader's default), wall "
                 f"time of the whole command (start-up and class report included), {scope}. "
                 f"The baseline leaves out each command's start-up."))
        rows.append(core.row(
            SECTION, 'batch -j 2, submissions per minute', 'subs/min', core.summary(rates['j2']),
            core.summary(rates['j1']), 'batch -j 1, same submissions', better='higher',
            target=('>=', 1.8, 'at least 1.8x -j 1'),
            note=f"Same {count} submissions, fresh output folder each run, {BLAS_THREADS} BLAS "
                 f"thread per run in both (the default); {runs}. Two workers on two cores "
                 f"share memory bandwidth and caches, and each batch ends with one worker "
                 f"finishing alone."))
        rows.append(core.row(
            SECTION, 'batch -j 1, 2 BLAS threads vs 1, submissions per minute',
            'subs/min', core.summary(rates['j1t2']), core.summary(rates['j1']),
            'batch -j 1 (1 BLAS thread, the default), same submissions', better='higher',
            note=f"`--blas-threads 2`: what a second BLAS thread adds to a lone worker on an "
                 f"idle machine (the default before one thread per run); {runs}."))
        return rows, memory
    except Exception as err:  # the rows measured so far, and the reason the rest is missing
        rows.append(core.failed(SECTION, 'grading', 's', err))
        return rows, memory
    finally:
        shutil.rmtree(work, ignore_errors=True)
