"""Grading a whole class: -j 2, every gradebook row checked, kill and resume."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from autograder.batch import NBGRADER_COLUMNS
from autograder.sandbox import usable_cores
from grading import collect, make_submission, quick_rubric
from helpers import STUDENT

pytestmark = pytest.mark.usefixtures('mnist')
# Everything but the two accuracy trainings (graded in test_grading.py): the
# class test is about the batch machinery, and 30 trainings would cost minutes.
ONLY = ['activations.*', 'softmax.*', 'loss.*', 'metrics.*', 'regularization', 'sgd.*',
        'data.*', 'batching.*', 'plot_curves', 'softmax_regression.*', 'two_layer.*']
BASE = 'models/_base_network.py'
BUGS = {  # name -> (changes, the tests it breaks)
    'no_batch_mean': ({'models/two_layer_nn.py': [('        dZ2 /= n\n', '')]},
                      {'two_layer.gradients', 'two_layer.large_logits'}),
    'reg_bias': ({'optimizer/_base_optimizer.py': [("if name.startswith('W'):", "if True:")]},
                 {'regularization', 'sgd.step'}),
    'unstable': ({BASE: [('np.exp(scores - scores.max(axis=1, keepdims=True))', 'np.exp(scores)')]},
                 {'softmax.stability', 'softmax_regression.large_logits', 'two_layer.large_logits'}),
    'last_batch': ({'utils.py': [('starts = range(0, len(data), batch_size)',
                                  'starts = range(0, len(data) - batch_size + 1, batch_size)')]},
                   {'batching.partial_batch'}),
    'split': ({'utils.py': [('n_train = len(images) * 4 // 5', 'n_train = 50000')]}, {'data.split'}),
    'relu_dev': ({BASE: [('out = (X > 0).astype(X.dtype)', 'out = (X >= 0).astype(X.dtype)')]},
                 {'activations.relu_dev'}),
    'sgd_no_reg': ({'optimizer/sgd.py': [('        self.apply_regularization(model)\n', '')]},
                   {'sgd.step'}),
    'two_bugs': ({'utils.py': [('n_train = len(images) * 4 // 5', 'n_train = 50000')],
                  'optimizer/_base_optimizer.py': [("if name.startswith('W'):", "if True:")]},
                 {'data.split', 'regularization', 'sgd.step'}),
}
ATTACKS = {  # name -> code put at the top of sigmoid_dev, which only its own test calls
    'exits': 'import sys; sys.exit(3)',
    'loops': 'while True: pass',
    'forks': 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass',
    'hogs': 'hog = []\nwhile True: hog.append(bytearray(2**28))',
}


@pytest.fixture(scope='module')
def rubric(tmp_path_factory):
    return quick_rubric(tmp_path_factory.mktemp('rubric'), timeout=5)


@pytest.fixture(scope='module')
def points(rubric):
    import yaml
    tests = yaml.safe_load(rubric.read_text())['tests']
    import fnmatch
    return {t: float(v['points']) for t, v in tests.items()
            if any(fnmatch.fnmatchcase(t, p) for p in ONLY)}


@pytest.fixture(scope='module')
def classroom(tmp_path_factory):
    """30+ submissions and, per student id, the set of tests expected to fail
    (None: no score expected, with the status the batch must report)."""
    root = tmp_path_factory.mktemp('class')
    subs, work = root / 'submissions', root / 'work'
    subs.mkdir()
    expected = {}

    def add(student, changes=None, as_zip=True, **kwargs):
        folder = make_submission(work / student, changes, **kwargs)
        if as_zip:
            result = collect(folder, subs / f'{student}.zip')
            assert result.returncode == 0, result.stderr
        else:
            shutil.copytree(folder, subs / student)

    for i in range(12):
        student = f'correct{i:02d}'
        add(student, {'utils.py': [('"""Data loading', f'"""Student {i}. Data loading')]},
            as_zip=i % 3 != 0)
        expected[student] = set()
    for name, (changes, broken) in BUGS.items():
        add(f'bug_{name}', changes)
        expected[f'bug_{name}'] = broken
    for name, code in ATTACKS.items():
        add(f'attack_{name}', attacks={BASE: [('sigmoid_dev', code)]})
        expected[f'attack_{name}'] = {'activations.sigmoid_dev'}
    assert collect(STUDENT, subs / 'stubs.zip').returncode == 0
    expected['stubs'] = 'all'
    add('missing_two_layer', drop=('models/two_layer_nn.py',), as_zip=False)
    expected['missing_two_layer'] = {'two_layer.loss', 'two_layer.gradients',
                                     'two_layer.large_logits'}
    add('syntax_error', {'models/softmax_regression.py': [('def forward(', 'def forward((')]},
        as_zip=False)
    expected['syntax_error'] = {'softmax_regression.loss', 'softmax_regression.gradients',
                                'softmax_regression.large_logits', 'activations.sigmoid',
                                'activations.sigmoid_dev', 'activations.relu',
                                'activations.relu_dev', 'softmax.values', 'softmax.stability',
                                'loss.cross_entropy', 'loss.zero_probability',
                                'metrics.accuracy', 'two_layer.loss', 'two_layer.gradients',
                                'two_layer.large_logits'}
    add('dup')  # dup.zip and dup/ : the same student twice
    add('dup_folder', as_zip=False)
    os.rename(subs / 'dup_folder', subs / 'dup')
    expected['dup'] = ('duplicate', None)
    (subs / 'corrupt.zip').write_bytes(b'PK\x03\x04 this is not a zip')
    expected['corrupt'] = 'refused'
    (subs / 'readme.txt').write_text('not a submission')
    expected['readme'] = ('unreadable', None)
    assert len(expected) >= 30
    return subs, expected


def run_batch(subs, out, rubric, *extra):
    return subprocess.run([sys.executable, '-m', 'autograder', 'grade', str(subs), '--out',
                           str(out), '-j', '2', '--rubric', str(rubric), '-q',
                           *sum([['--only', p] for p in ONLY], []), *extra],
                          capture_output=True, text=True, timeout=1800)


def check_gradebook(out, expected, points):
    with open(out / 'gradebook.csv', newline='') as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames[:11] == NBGRADER_COLUMNS
        assert reader.fieldnames[-1] == 'note'
        rows = {row['student_id']: row for row in reader}
    assert sorted(rows) == sorted(expected)
    total = sum(points.values())
    for student, failing in expected.items():
        row = rows[student]
        assert float(row['max_score']) == total
        if isinstance(failing, tuple):
            status, _ = failing
            assert row['score'] == '' and row['note'].startswith(status), (student, row)
            continue
        if failing == 'refused':
            assert float(row['score']) == 0 and row['note'] == '', (student, row)
            continue
        failing = set(points) if failing == 'all' else failing
        for test, worth in points.items():
            assert float(row[test]) == (0.0 if test in failing else worth), (student, test, row)
        assert float(row['score']) == total - sum(points[t] for t in failing), (student, row)
        assert row['note'] == '' and row['timestamp'], (student, row)


def test_class_batch_resumes_after_a_kill(classroom, rubric, points, tmp_path):
    subs, expected = classroom
    out = tmp_path / 'out'
    cmd = [sys.executable, '-m', 'autograder', 'grade', str(subs), '--out', str(out), '-j', '2',
           '--rubric', str(rubric), '-q', *sum([['--only', p] for p in ONLY], [])]
    process = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    published = out / 'submissions'
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and process.poll() is None:
        done = [p for p in published.glob('*') if not p.name.startswith('.')] \
            if published.exists() else []
        if len(done) >= 8:
            break
        time.sleep(0.2)
    assert process.poll() is None, "the batch finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = {p.name: (p / 'summary.json').stat().st_mtime_ns
              for p in published.glob('*') if not p.name.startswith('.')}
    assert 8 <= len(before) < 30 and not (out / 'gradebook.csv').exists()

    result = run_batch(subs, out, rubric)
    assert result.returncode == 0, result.stderr
    batch = json.loads((out / 'batch.json').read_text())
    statuses = {s['folder']: s['status'] for s in batch['students']}
    for name, mtime in before.items():  # graded before the kill: kept, not graded again
        assert (published / name / 'summary.json').stat().st_mtime_ns == mtime
        assert statuses[name] in ('skipped', 'duplicate'), (name, statuses[name])
    assert not list(published.glob('.tmp-*')) and not list(published.glob('.old-*'))
    check_gradebook(out, expected, points)
    assert 'dup: 2 submissions (dup, dup.zip); none counts until one is removed' \
        in batch['problems']
    assert 'readme.txt: not a .zip file or a folder' in batch['problems']
    assert (out / 'report' / 'index.html').is_file()  # the class report of the batch
    for folder in published.iterdir():
        document = json.loads((folder / 'results.json').read_text())
        assert isinstance(document['score'], (int, float))

    # A third run grades nothing; --force grades one student again.
    again = run_batch(subs, out, rubric)
    assert again.returncode == 0
    statuses = [s['status'] for s in json.loads((out / 'batch.json').read_text())['students']]
    assert 'graded' not in statuses


@pytest.mark.parametrize('jobs', [1, 2])
def test_workers_never_oversubscribe_the_cores(tmp_path, jobs):
    """The sandboxed code reports its BLAS thread settings through a test's feedback."""
    folder = tmp_path / 'class'
    folder.mkdir()
    report = ("raise RuntimeError('threads=' + ','.join(os.environ.get(v, '-') for v in "
              "('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS')))")
    for student in ('ann', 'ben'):
        make_submission(folder / student, attacks={BASE: [('sigmoid', f"import os\n{report}")]})
    out = tmp_path / 'out'
    done = subprocess.run([sys.executable, '-m', 'autograder', 'grade', str(folder), '--out',
                           str(out), '-j', str(jobs), '--only', 'activations.sigmoid', '-q'],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    threads = max(1, usable_cores() // jobs)
    for student in ('ann', 'ben'):
        document = json.loads((out / 'submissions' / student / 'results.json').read_text())
        assert f"threads={threads},{threads},{threads}" in document['tests'][0]['output']


def test_usable_cores_follow_a_cgroup_cpu_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    assert usable_cores(tmp_path) == affinity  # no cgroup files: the affinity
    (tmp_path / 'cpu.max').write_text('50000 100000\n')  # half a CPU (cgroup v2)
    assert usable_cores(tmp_path) == 1
    (tmp_path / 'cpu.max').write_text('max 100000\n')
    assert usable_cores(tmp_path) == affinity
    (tmp_path / 'cpu.max').unlink()
    (tmp_path / 'cpu').mkdir()  # cgroup v1
    (tmp_path / 'cpu' / 'cpu.cfs_quota_us').write_text('150000\n')
    (tmp_path / 'cpu' / 'cpu.cfs_period_us').write_text('100000\n')
    assert usable_cores(tmp_path) == min(affinity, 2)
    (tmp_path / 'cpu' / 'cpu.cfs_quota_us').write_text('-1\n')
    assert usable_cores(tmp_path) == affinity
