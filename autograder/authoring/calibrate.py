"""Calibrate the rubric from the reference: accuracy bands and CPU budgets.

- Accuracy bands: each accuracy test's model is trained from the reference
  solution through the grader's own loop (probes.train, from the given
  initial weights, on the secret training split of grading/data.py), once
  per seed; the seed orders the training examples and draws the split, since
  each course's secret draws its own. The reference scores every epoch. Full credit starts below the
  lowest accuracy seen by half the spread of the accuracies (at least 0.01),
  so a correct submission passes whatever its floating-point path: softmax
  regression, whose ReLU on the scores leaves whole classes untrained on some
  runs, gets a wide margin, the two-layer net a narrow one. Half credit
  starts 0.05 further down.
- CPU budgets: the reference and the course-style reference
  (tests/corpus/course/correct, written against the course's own scaffold,
  whose given CSV loader is the slowest correct code there is) are graded,
  and each test's budget is a multiple of the larger CPU time measured, with
  a floor (cpu_seconds), so a correct implementation on a slower machine still
  passes, while an endless loop fails in seconds. Training is also timed on
  the corpus's slowest correct styles (SLOW_STYLES: equivalent variants of
  tests/corpus/course/bugs.yaml, such as backpropagation one example at a
  time), at least SLOW_FACTOR times their CPU time: right code written with
  loops instead of matrix products keeps its accuracy points.

With --write the bands, the measurements and the budgets go into the rubric;
nothing else in the file changes.
"""
import datetime
import math
import platform
import re
from dataclasses import dataclass

import numpy as np
import yaml

from .. import paths
from ..catalogue import load_catalogue
from ..catalogue.accuracy import Accuracy
from ..catalogue.types import Context
from ..grading.data import GradingData
from ..grading.grader import selections
from ..files import write_text
from ..grading.sandbox import Budget
from ..grading.sessions import Job, run_jobs
from ..grading.workspace import Inputs

CPU_FACTOR, CPU_EXTRA, CPU_FLOOR = 4.0, 10.0, 10.0
COURSE_REFERENCE = 'tests/corpus/course/correct'
# Equivalent variants of tests/corpus/course/bugs.yaml written in the slowest
# correct style students use; accuracy tests' budgets cover SLOW_FACTOR times
# their training time (a margin for a slower grading machine).
COURSE_BUGS = 'tests/corpus/course/bugs.yaml'
SLOW_STYLES = ('per_example_loops',)
SLOW_FACTOR = 2.0


def measure_accuracy(grader, seeds, progress=None):
    """{accuracy test id: [the reference's test accuracy after every epoch, per seed]}.

    Seed s draws, through a secret derived from the course's, the training
    split (its transform, noise and row order, and the candidate its
    selections accept): as many course secrets. The examples come in the
    rubric's order, as in grading.
    """
    out = {}
    for seed in seeds:
        data = GradingData(grader.root / f'calibration-{seed}',
                           grader.secret + f'/calibration/{seed}'.encode(),
                           selections(grader.catalogue))
        for test in grader.tests:
            if not isinstance(test, Accuracy):
                continue
            # The order of the examples is the rubric's, as in grading: the
            # split (drawn from the seed's secret) is what varies.
            run = data.reference_run(test.p['model'], dict(test.selection_params()))
            accuracies = [round(a, 4) for a in run.accuracies]
            out.setdefault(test.id, []).append(accuracies)
            if progress:
                progress(f"{test.id} seed {seed}: {accuracies[-1]:.4f} after "
                         f"{len(accuracies)} epochs")
    return out


def measure_cpu(grader, packages, progress=None):
    """{test id: the largest CPU seconds any of the packages needed}.

    The course's given CSV loader runs as given, not through its fast
    stand-in: a loader that differs from the given one in any way is run as
    it is, and data.split's budget must cover it.
    """
    import tempfile
    worst = {}
    grader.given_loader = False
    for package in packages:
        with tempfile.TemporaryDirectory() as out:
            document, summary = grader.grade(package, out)
        if summary['status'] != 'graded' or document['score'] != summary['max_score']:
            failing = [t['name'] for t in document['tests'] if t['status'] != 'passed']
            raise RuntimeError(f"{package} does not score full marks ({summary['status']}; "
                               f"failing: {', '.join(failing) or summary.get('reason')})")
        for test, cpu in summary['cpu'].items():
            worst[test] = max(worst.get(test, 0.0), cpu)
        if progress:
            progress(f"{package}: {summary['seconds'].get('total', 0):.1f} s")
    grader.given_loader = True
    return worst


def budget_for(cpu, factor=CPU_FACTOR):
    """`factor` (CPU_FACTOR) times the measured CPU time (to 0.1 s) plus CPU_EXTRA,
    at least CPU_FLOOR, rounded up to 5 s."""
    cpu = round(cpu, 1)
    return float(max(CPU_FLOOR, math.ceil((factor * cpu + CPU_EXTRA) / 5 - 1e-9) * 5))


def slow_style_packages(folder):
    """The SLOW_STYLES variants of the course corpus, built in `folder`."""
    import shutil
    from pathlib import Path
    corpus = paths.kit_root() / COURSE_BUGS
    variants = {v['id']: v for v in yaml.safe_load(corpus.read_text())['bugs']}
    built = []
    for style in SLOW_STYLES:
        if not variants.get(style, {}).get('equivalent'):
            raise ValueError(f"{COURSE_BUGS}: {style} is not an equivalent variant")
        dest = Path(folder) / style
        shutil.copytree(corpus.parent / 'correct', dest)
        for edit in variants[style]['edits']:
            path = dest / edit['file']
            text = path.read_text()
            if text.count(edit['old']) != 1:
                raise ValueError(f"{COURSE_BUGS}: {style}: an edit of {edit['file']} does "
                                 f"not apply")
            path.write_text(text.replace(edit['old'], edit['new']))
        built.append(dest)
    return built


def measure_training_cpu(grader, packages, progress=None):
    """{accuracy test id: the largest CPU seconds any package's training took}.

    The accuracy tests' own training request (the trusted loop, the default
    config, the package's model and SGD), without a budget.
    """
    inputs = Inputs(grader.root)
    data = GradingData(grader.root / 'calibration-cpu', grader.secret + b'/calibration/cpu',
                       selections(grader.catalogue))
    train = data.train()
    ctx = Context(grader.secret, 'calibration', train_transform=data.transform)
    worst = {}
    for test in grader.catalogue.tests:
        if not isinstance(test, Accuracy):
            continue
        for package in packages:
            # Every epoch (no judge listens to stop it): the budget must cover them all.
            (request,) = test.requests(ctx)
            job = Job(inputs.add(f'cpu-{test.id}-{package.name}', request), Budget(3600, 7200),
                      request.answer_bytes)
            (trained,) = run_jobs(grader.reference, inputs.script, [job], package,
                                  env={'PROBE_TRAIN_DIR': str(train)})
            if trained.answer.error:
                raise RuntimeError(f"{package} failed to train: {trained.answer.error}")
            worst[test.id] = max(worst.get(test.id, 0.0), trained.cpu)
            if progress:
                progress(f"{package.name} trains {test.id} in {trained.cpu:.1f} s of CPU")
    return worst


def budgets_for(cpu, slow_cpu):
    """{test id: cpu_seconds} from the references' CPU times and the slow styles'."""
    budgets = {test: budget_for(seconds) for test, seconds in cpu.items()}
    for test, seconds in slow_cpu.items():
        budgets[test] = max(budgets.get(test, CPU_FLOOR), budget_for(seconds, SLOW_FACTOR))
    return budgets


def bands_for(accuracies, half_credit_gap=0.05):
    """Full credit from (lowest - margin) rounded down to 0.005, half credit below.

    margin is half the spread of the accuracies, at least 0.01.
    """
    margin = max(0.01, (max(accuracies) - min(accuracies)) / 2)
    full = np.floor((min(accuracies) - margin) / 0.005) * 0.005
    return [{'min_accuracy': round(float(full), 3), 'credit': 1.0},
            {'min_accuracy': round(float(full - half_credit_gap), 3), 'credit': 0.5}]


def machine():
    return (f"{datetime.date.today().isoformat()} on {platform.machine()}, "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"numpy {np.__version__}")


def calibration_block(accuracies, seeds):
    return {
        'seeds': list(seeds),
        'accuracies': [round(a, 4) for a in accuracies],
        'mean': round(float(np.mean(accuracies)), 4),
        'min': round(float(min(accuracies)), 4),
        'max': round(float(max(accuracies)), 4),
        'measured': machine(),
    }


def _block(text, test_id, path):
    block = re.search(rf'^  {re.escape(test_id)}:\n((?:    .*\n|\s*\n)*)', text, re.M)
    if block is None:
        raise ValueError(f"{path}: no entry for {test_id}")
    return block


def write_rubric(path, bands=None, budgets=None):
    """Replace accuracy tests' bands and calibration, and tests' cpu_seconds, in the rubric.

    Only those lines change; comments, anchors and the rest stay. The new
    text must parse to the same rubric with the new values, or nothing is
    written; the file is replaced atomically.

    Args:
        path: the rubric YAML (Path).
        bands: {test id: (bands, calibration)}.
        budgets: {test id: cpu seconds}.

    Raises:
        ValueError: a test is not in the file, or the edit would not read back.
    """
    text = path.read_text()
    for test_id, seconds in (budgets or {}).items():
        block = _block(text, test_id, path)
        body, count = re.subn(r'^    cpu_seconds: .*$', f'    cpu_seconds: {seconds:g}',
                              block.group(1), flags=re.M)
        if count != 1:
            raise ValueError(f"{path}: {test_id} has no single cpu_seconds line")
        text = text[:block.start(1)] + body + text[block.end(1):]
    for test_id, (new_bands, calibration) in (bands or {}).items():
        block = _block(text, test_id, path)
        kept, skipping = [], False
        for line in block.group(1).splitlines(keepends=True):
            if re.match(r'    (bands|calibration):', line):
                skipping = True
                continue
            # A key's value: deeper lines, and YAML's list items at the key's own indent.
            if skipping and (line.startswith(('      ', '    - ')) or not line.strip()):
                continue
            skipping = False
            kept.append(line)
        extra = yaml.safe_dump({'bands': new_bands, 'calibration': calibration},
                               sort_keys=False, default_flow_style=None, width=100)
        extra = ''.join('    ' + line + '\n' for line in extra.splitlines())
        text = text[:block.start(1)] + ''.join(kept) + extra + text[block.end(1):]
    try:
        written = yaml.safe_load(text)['tests']
        for test_id, (new_bands, calibration) in (bands or {}).items():
            if (written[test_id]['bands'], written[test_id]['calibration']) != \
                    (new_bands, calibration):
                raise ValueError(f"{test_id} reads back different values")
        for test_id, seconds in (budgets or {}).items():
            if written[test_id]['cpu_seconds'] != seconds:
                raise ValueError(f"{test_id} reads back a different budget")
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: the updated rubric would not read back ({err}); "
                         f"left unchanged") from None
    write_text(path, text)
    load_catalogue(path)  # and it still loads as a catalogue


@dataclass
class Calibration:
    """What `calibrate` measured and derived (see the module's docstring)."""
    path: object          # the rubric file
    bands: dict           # {test id: (bands, calibration block)}
    budgets: dict         # {test id: cpu seconds}
    cpu: dict             # {test id: the references' largest CPU seconds}
    slow_cpu: dict        # {accuracy test id: the slowest right style's training CPU}


def calibrate(rubric=None, seeds=5, progress=None):
    """Measure the reference over `seeds` course secrets and the packages' CPU times.

    Returns:
        Calibration (nothing written: write_rubric(c.path, c.bands, c.budgets)).
    """
    import tempfile
    from ..grading.grader import Grader
    seeds = list(range(seeds))
    with Grader(rubric_path=rubric) as grader:
        accuracies = measure_accuracy(grader, seeds, progress)
        packages = [paths.solutions_dir()]
        course = paths.kit_root() / COURSE_REFERENCE
        if course.is_dir():
            packages.append(course)
        cpu = measure_cpu(grader, packages, progress)
        with tempfile.TemporaryDirectory() as folder:
            slow_cpu = measure_training_cpu(grader, slow_style_packages(folder), progress)
        path = grader.catalogue.path
    bands = {}
    for test, trajectories in accuracies.items():
        finals = [t[-1] for t in trajectories]
        new_bands = bands_for(finals)
        block = calibration_block(finals, seeds)
        # How soon each run earns full credit: where training stops when the
        # verdict is decided (catalogue/accuracy.py).
        block['epochs_to_full_credit'] = [
            next((e + 1 for e, a in enumerate(t) if a >= new_bands[0]['min_accuracy']), None)
            for t in trajectories]
        bands[test] = (new_bands, block)
    return Calibration(path, bands, budgets_for(cpu, slow_cpu), cpu, slow_cpu)
