"""`autograder mutants`: how many plausible bugs the hidden and the visible tests catch.

    autograder mutants --out DIR            every mutant (see README: about 45 min on 2 cores)
    autograder mutants --quick --out DIR    the fixed sample QUICK (under 2 minutes)
    autograder mutants --list               the mutants, without grading them

Each mutant (authoring/mutate.py: one small change in one solution region of
solutions/) is put into a copy of the reference package and graded

- by the real grader: one Grader for the whole run (it prepares the data
  once), restricted to the hidden tests whose kind says the mutated file can
  change their outcome (Kind.affected_by); the mutant is killed by every test
  that loses points. The accuracy tests read models/ and optimizer/, so they
  run for every mutant there;
- by the visible tests: `python -m pytest` in that copy, in a subprocess
  with a timeout, never in this process.

A mutant no hidden test kills is either listed, with the reason, in
mutants_equivalent.yaml (reviewed by hand: it behaves like the reference on
everything the assignment's contract allows) or a gap in the hidden tests.
The target: at least TARGET of the other mutants killed by the hidden tests.

Writes DIR/mutants.json (every mutant, its verdict, its killers, its time)
and DIR/index.html (the same page style as the class report), and prints a
table. Exit status: 0 target met; 1 missed, or a mutant could not be graded.
"""
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from pathlib import Path

import yaml

from .. import paths
from ..untrusted import printable

TARGET = 0.95
EQUIVALENTS = Path(__file__).resolve().parent / 'mutants_equivalent.yaml'
# The hidden inputs and the training split's transform come from the grading secret; a fixed
# one makes two runs of the same kit give the same verdicts. It is used for
# this command only (it never grades a student; the course's secret is not read).
SECRET = 'autograder mutants: a fixed secret, so runs are reproducible'
VISIBLE_TIMEOUT = 300
FEEDBACK_CHARS = 600

# The quick sample: a fixed list, chosen to cover every file of the package
# and several operators, with the real-submission bug that started this tool
# (gradients that accumulate across forward() calls) and one equivalent
# mutant. tests/test_mutants.py asserts each one's killers. About 100 s here.
QUICK = (
    # models/: the accumulate bug, a missing 1/N, a missing ReLU', an unshifted softmax
    'models/two_layer_nn.py:TwoLayerNet.forward:accumulate:7f895d00',
    'models/two_layer_nn.py:TwoLayerNet.forward:skip:324c544d',
    'models/softmax_regression.py:SoftmaxRegression.forward:skip:0cbbb760',
    'models/_base_network.py:_baseNetwork.softmax:drop_term:762cddd2',
    # an equivalent one: an in-place division written as a new binding
    'models/two_layer_nn.py:TwoLayerNet.forward:rebind:43fefc9f',
    # optimizer/: regularization on biases, a skipped parameter update
    'optimizer/_base_optimizer.py:_BaseOptimizer.apply_regularization:condition:a7268e70',
    'optimizer/sgd.py:SGD.update:skip:f07bcb08',
    # utils.py: an off-by-one slice, a dropped last batch of one, a skipped legend
    'utils.py:load_mnist_trainval:off_by_one:9d9398ba',
    'utils.py:generate_batched_data:off_by_one:e838b988',
    'utils.py:plot_curves:skip:b23080d7',
)


# -- the reviewed list of equivalent mutants ---------------------------------------------
def load_equivalents(path=EQUIVALENTS):
    """{mutant id: reason} from the reviewed list.

    Raises:
        ValueError: the file is not a mapping of ids to non-empty sentences.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                            and v.strip() for k, v in raw.items()):
        raise ValueError(f"{path}: must map mutant ids to the reason each is equivalent")
    return {k: ' '.join(v.split()) for k, v in raw.items()}


def select(mutants, quick=False, patterns=None):
    """The mutants to run: all, the quick sample (in QUICK's order), or those matching.

    Raises:
        ValueError: a QUICK id no longer exists (the reference changed), or no
            mutant matches the patterns.
    """
    if quick:
        by_id = {m.id: m for m in mutants}
        missing = [i for i in QUICK if i not in by_id]
        if missing:
            raise ValueError(f"the quick sample names mutants that no longer exist (the "
                             f"reference changed): {', '.join(missing)}; pick new ones "
                             f"from `autograder mutants --list`")
        mutants = [by_id[i] for i in QUICK]
    if patterns:
        mutants = [m for m in mutants if any(fnmatch.fnmatchcase(m.id, p) for p in patterns)]
        if not mutants:
            raise ValueError(f"no mutant matches {', '.join(patterns)}")
    return mutants


# -- one mutant ---------------------------------------------------------------------------
def write_package(mutant, folder):
    """A copy of the reference package with the mutant applied; returns the folder."""
    folder = Path(folder)
    shutil.copytree(paths.solutions_dir(), folder,
                    ignore=shutil.ignore_patterns('__pycache__', '.pytest_cache', 'results',
                                                  '*.pyc', '*.png', '.ipynb_checkpoints'))
    (folder / mutant.file).write_text(mutant.source)
    return folder


def start_visible(package):
    """Start the visible tests on a package folder in a subprocess; returns its handle.

    They run beside the hidden grading of the same mutant (finish_visible
    collects them), so a mutant costs the longer of the two, not their sum.
    """
    report = Path(package) / '.visible.xml'
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTHON', 'PYTEST'))}
    # The package's loader looks beside the package for data/mnist; the copy has none.
    env.update(MNIST_DIR=str(paths.data_dir()), PYTHONDONTWRITEBYTECODE='1',
               OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    process = subprocess.Popen([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                                f'--junitxml={report}'], cwd=package, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    return {'process': process, 'report': report, 'start': time.monotonic()}


def finish_visible(handle, timeout=VISIBLE_TIMEOUT):
    """Wait for start_visible's tests (killing them after `timeout` s in all).

    Returns:
        {'failed': [test names], 'seconds': float, 'error': None or why pytest
        itself did not report (a timeout, a crash)}.
    """
    process, report = handle['process'], handle['report']
    left = max(timeout - (time.monotonic() - handle['start']), 1)
    try:
        output, _ = process.communicate(timeout=left)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # the session it started: pytest and its children
        process.communicate()
        return {'failed': ['(timed out)'], 'error': f"the visible tests did not finish in "
                f"{timeout} s", 'seconds': round(time.monotonic() - handle['start'], 2)}
    seconds = round(time.monotonic() - handle['start'], 2)
    output = output.decode(errors='replace')
    failed, error = [], None
    try:
        root = ElementTree.parse(report).getroot()
        for case in root.iter('testcase'):
            if case.find('failure') is not None or case.find('error') is not None:
                cls = case.get('classname', '').rsplit('.', 1)[-1]
                failed.append(f"{cls}.{case.get('name')}" if cls else case.get('name'))
        for suite in root.iter('testsuite'):  # a test file that does not import
            if int(suite.get('errors', 0)) and not failed:
                failed.append('(collection error)')
    except (OSError, ElementTree.ParseError):
        error = f"pytest exited {process.returncode} without a report: " + output[-300:]
        failed = ['(pytest failed)']
    if process.returncode not in (0, 1) and not failed:
        failed = [f'(pytest exited {process.returncode})']
    return {'failed': sorted(failed), 'seconds': seconds, 'error': error}


def run_visible(package, timeout=VISIBLE_TIMEOUT):
    """The visible tests on a package folder (see finish_visible)."""
    return finish_visible(start_visible(package), timeout)


def grade_hidden(grader, mutant, package, out_dir):
    """The affected hidden tests on a mutated package.

    Returns:
        {'tests': [ids run], 'killed_by': [ids that lost points], 'lost': points
        lost, 'feedback': {id: output}, 'seconds': float, 'error': None or why
        the grader could not grade it}.
    """
    affected = [t.id for t in grader.tests if t.affected_by([mutant.file])]
    start = time.monotonic()
    document, summary = grader.grade(package, out_dir, only=affected)
    seconds = round(time.monotonic() - start, 2)
    error = summary.get('reason') if summary['status'] != 'graded' else None
    killed, feedback, lost = [], {}, 0.0
    for test in document['tests']:
        test_id = test['name'].split(':', 1)[0]
        if test['score'] < test['max_score']:
            killed.append(test_id)
            lost += test['max_score'] - test['score']
            feedback[test_id] = printable(test['output'], limit=FEEDBACK_CHARS)
    return {'tests': affected, 'killed_by': killed, 'lost': round(lost, 4),
            'feedback': feedback, 'seconds': seconds, 'error': error}


def verdict(hidden, equivalents, mutant_id):
    """'killed', 'equivalent', 'survived' or 'error' (the grader failed on it)."""
    if hidden['error']:
        return 'error'
    if hidden['killed_by']:
        return 'killed'
    return 'equivalent' if mutant_id in equivalents else 'survived'


def run_one(grader, mutant, equivalents, work):
    """Grade one mutant both ways; its entry of mutants.json."""
    folder = Path(tempfile.mkdtemp(prefix='mutant-', dir=work))
    try:
        package = write_package(mutant, folder / 'package')
        handle = start_visible(package)
        try:
            hidden = grade_hidden(grader, mutant, package, folder / 'results')
            if hidden['error']:  # the machine, not the mutant: once more
                hidden = grade_hidden(grader, mutant, package, folder / 'results')
        finally:
            visible = finish_visible(handle)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    status = verdict(hidden, equivalents, mutant.id)
    entry = dict(mutant.as_dict(), status=status, hidden=hidden, visible=visible,
                 seconds=round(max(hidden['seconds'], visible['seconds']), 2))
    if mutant.id in equivalents:
        entry['equivalent_reason'] = equivalents[mutant.id]
    return entry


# -- the report -------------------------------------------------------------------------
def summarize(entries, equivalents, generated_ids, seconds, quick, interrupted=None):
    """The mutants.json document: totals, per-function rows, problems, every mutant."""
    counts = {s: sum(e['status'] == s for e in entries)
              for s in ('killed', 'equivalent', 'survived', 'error')}
    considered = [e for e in entries if e['status'] in ('killed', 'survived')]
    visible_killed = sum(bool(e['visible']['failed']) for e in considered)
    hidden_rate = counts['killed'] / len(considered) if considered else None
    functions = {}
    for e in entries:
        row = functions.setdefault((e['file'], e['function']), {
            'file': e['file'], 'function': e['function'], 'mutants': 0, 'killed': 0,
            'equivalent': 0, 'survived': 0, 'error': 0, 'visible_killed': 0,
            'considered': 0, 'seconds': 0.0})
        row['mutants'] += 1
        row[e['status']] += 1
        row['seconds'] = round(row['seconds'] + e['seconds'], 2)
        if e['status'] in ('killed', 'survived'):
            row['considered'] += 1
            row['visible_killed'] += bool(e['visible']['failed'])
    ran = {e['id'] for e in entries}
    problems = []
    stale = sorted(i for i in equivalents if i not in generated_ids)
    for i in stale:
        problems.append(f"stale entry in mutants_equivalent.yaml: {i} is no longer generated "
                        f"(the reference changed): review and remove it")
    for e in entries:
        if e['status'] == 'killed' and e['id'] in equivalents:
            problems.append(f"{e['id']} is listed as equivalent but "
                            f"{', '.join(e['hidden']['killed_by'])} kill(s) it: the reason "
                            f"in mutants_equivalent.yaml is wrong")
    operators = {}
    for e in entries:
        row = operators.setdefault(e['operator'], {'mutants': 0, 'killed': 0,
                                                   'equivalent': 0, 'survived': 0, 'error': 0})
        row['mutants'] += 1
        row[e['status']] += 1
    return {
        'generated': datetime.now(timezone.utc).isoformat(timespec='seconds'),
        'mode': 'quick' if quick else ('partial' if len(entries) < len(generated_ids)
                                       else 'full'),
        'interrupted': interrupted,
        'seconds': round(seconds, 1),
        'totals': {'mutants': len(entries), 'generated': len(generated_ids), **counts,
                   'considered': len(considered), 'hidden_kill_rate': hidden_rate,
                   'visible_killed': visible_killed,
                   'visible_kill_rate': visible_killed / len(considered) if considered else None,
                   'target': TARGET,
                   'target_met': hidden_rate is not None and hidden_rate >= TARGET
                   and not counts['error']},
        'operators': operators,
        'functions': sorted(functions.values(), key=lambda r: (r['file'], r['function'])),
        'problems': problems,
        'stale_equivalents': stale,
        'not_run_equivalents': sorted(i for i in equivalents if i in generated_ids
                                      and i not in ran),
        'mutants': entries,
    }


def _pct(value):
    return '-' if value is None else f"{100 * value:.1f}%"


def print_report(document, stream=None):
    """The terminal table: per function, then the survivors and the totals."""
    stream = stream or sys.stdout
    from ..html import duration
    rows = [(f"{r['file']}  {r['function']}", r['mutants'], r['killed'], r['equivalent'],
             r['survived'] + r['error'], f"{r['visible_killed']}/{r['considered']}",
             duration(r['seconds'])) for r in document['functions']]
    width = max([len(r[0]) for r in rows] + [20])
    head = ('file  function', 'mutants', 'killed', 'equiv', 'survived', 'visible', 'time')
    print(f"{head[0]:<{width}}  {head[1]:>7}  {head[2]:>6}  {head[3]:>5}  {head[4]:>8}  "
          f"{head[5]:>7}  {head[6]:>10}", file=stream)
    for r in rows:
        print(f"{r[0]:<{width}}  {r[1]:>7}  {r[2]:>6}  {r[3]:>5}  {r[4]:>8}  {r[5]:>7}  "
              f"{r[6]:>10}", file=stream)
    t = document['totals']
    print(f"{'total':<{width}}  {t['mutants']:>7}  {t['killed']:>6}  {t['equivalent']:>5}  "
          f"{t['survived'] + t['error']:>8}  {t['visible_killed']}/{t['considered']:<5}  "
          f"{duration(document['seconds']):>10}", file=stream)
    for e in document['mutants']:
        if e['status'] in ('survived', 'error'):
            seen = 'visible tests kill it' if e['visible']['failed'] else \
                'the visible tests miss it too'
            why = f" ({e['hidden']['error']})" if e['status'] == 'error' else ''
            print(f"{e['status'].upper()}  {e['id']}{why}\n    line {e['line']}: "
                  f"`{e['original']}` -> `{e['mutated']}`; {seen}", file=stream)
    for problem in document['problems']:
        print(f"PROBLEM  {problem}", file=stream)
    met = 'met' if t['target_met'] else 'MISSED'
    print(f"hidden tests: {t['killed']} of {t['considered']} non-equivalent mutants killed "
          f"({_pct(t['hidden_kill_rate'])}; target {100 * t['target']:.0f}%: {met}); "
          f"{t['equivalent']} equivalent, {t['survived']} survived"
          + (f", {t['error']} not graded" if t['error'] else ''), file=stream)
    print(f"visible tests: {t['visible_killed']} of {t['considered']} killed "
          f"({_pct(t['visible_kill_rate'])})", file=stream)


def render_html(document):
    """The report page (templates/mutants.html, which extends base.html)."""
    from .. import html
    t = document['totals']
    meta = [f"{document['mode']} run of {t['mutants']} mutant(s) "
            f"({t['generated']} generated from solutions/)",
            f"generated {document['generated']}", f"took {html.duration(document['seconds'])}"]
    if document['interrupted']:
        meta.append(f"interrupted ({document['interrupted']})")
    order = {'survived': 0, 'error': 1, 'equivalent': 2, 'killed': 3}
    mutants = sorted(document['mutants'], key=lambda e: (order[e['status']], e['file'],
                                                         e['line'], e['id']))
    return html.render('mutants.html', title='Mutation report: how many bugs the tests catch',
                       meta=meta, totals=t, functions=document['functions'],
                       operators=document['operators'], problems=document['problems'],
                       mutants=mutants, pct=_pct, figure_count=0)


def write_report(document, out):
    """DIR/mutants.json and DIR/index.html; returns their paths."""
    from ..files import make_dir, write_json, write_text
    out = make_dir(out)
    write_json(out / 'mutants.json', document)
    write_text(out / 'index.html', render_html(document))
    return out / 'mutants.json', out / 'index.html'


# -- running them ---------------------------------------------------------------------
def run_mutants(chosen, generated, rubric=None, quick=False, progress=None):
    """Grade every chosen mutant; return the summary document (interrupted if stopped).

    Args:
        chosen: the Mutants to run (select()); generated: every Mutant (for
            stale entries of the reviewed list).
        progress: called with (k, total, entry) after each mutant.
    """
    from ..grading.grader import Grader
    equivalents = load_equivalents()
    entries, interrupted = [], None
    start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix='autograder-mutants-'))
    saved_secret = os.environ.get('AUTOGRADER_SECRET')
    os.environ['AUTOGRADER_SECRET'] = SECRET
    try:
        with Grader(rubric_path=rubric) as grader:
            for k, mutant in enumerate(chosen, 1):
                entries.append(run_one(grader, mutant, equivalents, work))
                if progress:
                    progress(k, len(chosen), entries[-1])
    except KeyboardInterrupt as stop:
        interrupted = str(stop) or 'SIGINT'
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if saved_secret is None:
            os.environ.pop('AUTOGRADER_SECRET', None)
        else:
            os.environ['AUTOGRADER_SECRET'] = saved_secret
    return summarize(entries, equivalents, {m.id for m in generated},
                     time.monotonic() - start, quick, interrupted)
