"""Grading a whole class: -j 2, every gradebook row checked, Ctrl-C and resume, hostile names."""
import csv
import fnmatch
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest
import yaml

from autograder.course.discover import discover, folder_names
from autograder.course.gradebook import NBGRADER_COLUMNS
from autograder.course import late as late_module
from autograder.course.late import Policy, timing
from grading import collect, make_submission, quick_rubric
from helpers import KIT, STUDENT

pytestmark = pytest.mark.usefixtures('mnist')
# Everything but the accuracy trainings and the split (graded in test_grading.py):
# the class test is about the batch machinery.
ONLY = ['activations.*', 'softmax.*', 'loss.*', 'metrics.*', 'regularization', 'sgd.*',
        'batching.*', 'softmax_regression.*', 'two_layer.*']
BASE = 'models/_base_network.py'
BUGS = {  # name -> (changes, the tests it breaks)
    'no_batch_mean': ({'models/two_layer_nn.py': [('        dZ2 /= n\n', '')]},
                      {'two_layer.gradients'}),
    'reg_bias': ({'optimizer/_base_optimizer.py': [("if name.startswith('W'):", "if True:")]},
                 {'regularization'}),
    'unstable': ({BASE: [('np.exp(scores - scores.max(axis=1, keepdims=True))', 'np.exp(scores)')]},
                 {'softmax.stability'}),
    'last_batch': ({'utils.py': [('starts = range(0, len(data), batch_size)',
                                  'starts = range(0, len(data) - batch_size + 1, batch_size)')]},
                   {'batching.partial_batch'}),
    'relu_dev': ({BASE: [('out = (X > 0).astype(X.dtype)', 'out = (X < 0).astype(X.dtype)')]},
                 {'activations.relu_dev'}),
    'sgd_no_reg': ({'optimizer/sgd.py': [('        self.apply_regularization(model)\n', '')]},
                   {'sgd.step'}),
    'two_bugs': ({'utils.py': [('starts = range(0, len(data), batch_size)',
                                'starts = range(0, len(data) - batch_size + 1, batch_size)')],
                  'optimizer/_base_optimizer.py': [("if name.startswith('W'):", "if True:")]},
                 {'batching.partial_batch', 'regularization'}),
}
ATTACKS = {  # name -> code put at the top of sigmoid_dev, which only its own test calls
    'exits': 'import sys; sys.exit(3)',
    'loops': 'while True: pass',
    'forks': 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass',
    'hogs': 'hog = []\nwhile True: hog.append(bytearray(2**28))',
}


@pytest.fixture(scope='module')
def rubric(tmp_path_factory):
    return quick_rubric(tmp_path_factory.mktemp('rubric'), cpu=4)


@pytest.fixture(scope='module')
def points(rubric):
    tests = yaml.safe_load(rubric.read_text())['tests']
    return {t: float(v['points']) for t, v in tests.items()
            if any(fnmatch.fnmatchcase(t, p) for p in ONLY)}


@pytest.fixture(scope='module')
def classroom(tmp_path_factory):
    """30+ submissions and, per student id, the tests expected to fail (a tuple: no
    score expected, with the status the batch must report)."""
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

    for i in range(13):
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
    # Each module is imported on its own: only the tests of the broken file fail.
    expected['syntax_error'] = {'softmax_regression.loss', 'softmax_regression.gradients',
                                'softmax_regression.large_logits'}
    add('dup')  # dup.zip and dup/ : the same student twice
    add('dup_folder', as_zip=False)
    os.rename(subs / 'dup_folder', subs / 'dup')
    expected['dup'] = ('duplicate', None)
    (subs / 'corrupt.zip').write_bytes(b'PK\x03\x04 this is not a zip')
    expected['corrupt'] = 'unreadable'
    add('carol')
    (subs / 'carol.txt').write_text('a stray note beside carol.zip')  # never shadows carol
    expected['carol'] = set()
    assert len(expected) >= 30
    return subs, expected


def batch_cmd(subs, out, rubric, *extra, jobs=2):
    return [sys.executable, '-m', 'autograder', 'batch', str(subs), '--out', str(out), '-j',
            str(jobs), '--rubric', str(rubric), '-q', *sum([['--only', p] for p in ONLY], []),
            *extra]


def run_batch(subs, out, rubric, *extra, jobs=2):
    return subprocess.run(batch_cmd(subs, out, rubric, *extra, jobs=jobs), capture_output=True,
                          text=True, timeout=1800, cwd=KIT)


def read_gradebook(out):
    with open(out / 'gradebook.csv', newline='') as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, {row['student_id']: row for row in reader}


def check_gradebook(out, expected, points):
    fields, rows = read_gradebook(out)
    assert fields[:11] == NBGRADER_COLUMNS and fields[-1] == 'note'
    assert sorted(rows) == sorted(expected)
    total = sum(points.values())
    for student, failing in expected.items():
        row = rows[student]
        assert float(row['max_score']) == total
        if isinstance(failing, tuple):
            status, _ = failing
            assert row['score'] == '' and row['note'].startswith(status), (student, row)
            continue
        if failing == 'unreadable':
            assert float(row['score']) == 0 and row['note'].startswith('unreadable: '), row
            assert 'not a readable zip' in row['note'], row
            continue
        failing = set(points) if failing == 'all' else failing
        for test, worth in points.items():
            assert float(row[test]) == (0.0 if test in failing else worth), (student, test, row)
        assert float(row['score']) == total - sum(points[t] for t in failing), (student, row)
        assert row['note'] == '' and row['timestamp'], (student, row)


def wait_for_results(folder, count, process, seconds=900):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        done = [p for p in folder.glob('*') if not p.name.startswith('.')] \
            if folder.exists() else []
        if len(done) >= count:
            return done
        time.sleep(0.1)
    raise AssertionError(f"{count} results never appeared")


@pytest.mark.slow
def test_class_batch_stops_on_ctrl_c_and_resumes(classroom, rubric, points, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) after 8 results:
    what is queued is cancelled, what runs ends, the gradebook covers what finished, exit
    130; the same command then finishes the class and grades nothing twice."""
    subs, expected = classroom
    out = tmp_path / 'out'
    process = subprocess.Popen(batch_cmd(subs, out, rubric), cwd=KIT,
                               start_new_session=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    published = out / 'submissions'
    wait_for_results(published, 8, process)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert 'Resume with the same command' in stderr
    batch = json.loads((out / 'batch.json').read_text())
    assert batch['interrupted'] == 'SIGINT'
    statuses = {s['id']: s['status'] for s in batch['students']}
    assert 'interrupted' in statuses.values()
    _, rows = read_gradebook(out)  # written for what finished
    finished = [s for s, st in statuses.items() if st == 'graded']
    assert finished and all(rows[s]['score'] != '' for s in finished if s in rows)
    assert not list(published.glob('.tmp-*')) and not list(published.glob('.old-*'))
    table = subprocess.run(['ps', '-ww', '-eo', 'ppid=,args='], capture_output=True,
                           text=True).stdout
    assert not [line for line in table.splitlines()
                if line.split()[0] == str(process.pid)], "a worker outlived the batch"
    before = {p.name: (p / 'summary.json').stat().st_mtime_ns
              for p in published.glob('*') if not p.name.startswith('.')}

    result = run_batch(subs, out, rubric)
    assert result.returncode == 0, result.stderr
    batch = json.loads((out / 'batch.json').read_text())
    statuses = {s['folder']: s['status'] for s in batch['students']}
    for name, mtime in before.items():  # graded before the stop: kept, not graded again
        assert (published / name / 'summary.json').stat().st_mtime_ns == mtime
        assert statuses[name] in ('skipped', 'duplicate', 'unreadable'), (name, statuses[name])
    assert not list(published.glob('.tmp-*')) and not list(published.glob('.old-*'))
    check_gradebook(out, expected, points)
    assert 'dup: 2 submissions (dup, dup.zip); none counts until one is removed' \
        in batch['problems']
    assert 'carol.txt: not a .zip file or a folder, not graded' in batch['problems']
    assert (out / 'report' / 'index.html').is_file()  # the class report of the batch
    for folder in published.iterdir():
        document = json.loads((folder / 'results.json').read_text())
        assert isinstance(document['score'], (int, float))

    # A third run grades nothing; --student grades one student again, the rest kept.
    again = run_batch(subs, out, rubric)
    assert again.returncode == 0
    statuses = [s['status'] for s in json.loads((out / 'batch.json').read_text())['students']]
    assert 'graded' not in statuses
    one = run_batch(subs, out, rubric, '--student', 'bug_reg_bias')
    assert one.returncode == 0, one.stderr
    batch = json.loads((out / 'batch.json').read_text())
    statuses = {s['id']: s['status'] for s in batch['students']}
    assert statuses['bug_reg_bias'] == 'graded'
    assert all(v in ('skipped', 'duplicate', 'unreadable') for k, v in statuses.items()
               if k != 'bug_reg_bias')
    check_gradebook(out, expected, points)
    # One permission policy: files 0640, folders 0750 (staff in the group read everything).
    for path in [out / 'batch.json', out / 'gradebook.csv', out / 'report' / 'index.html',
                 published / 'carol' / 'results.json']:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    for path in [out, published, published / 'carol', out / 'report']:
        assert stat.S_IMODE(path.stat().st_mode) == 0o750, path


def test_progress_goes_to_a_log_one_line_per_submission(tmp_path):
    folder = tmp_path / 'class'
    for student in ('ann', 'ben'):
        make_submission(folder / student)
    result = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                             str(tmp_path / 'out'), '--only', 'softmax.values'],
                            capture_output=True, text=True, timeout=300, cwd=KIT)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith('[')]
    assert len(lines) == 2 and lines[0].startswith('[1/2] ') and '3/3' in lines[0]


@pytest.mark.slow
def test_a_worker_that_dies_costs_only_its_submission(tmp_path):
    folder = tmp_path / 'class'
    for student in ('ann', 'ben', 'cid', 'dan'):
        make_submission(folder / student, attacks={
            BASE: [('sigmoid', 'import time; time.sleep(2)')]} if student == 'ann' else None)
    out = tmp_path / 'out'
    process = subprocess.Popen([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                                str(out), '-j', '1', '--only', 'activations.sigmoid', '-q'],
                               cwd=KIT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The worker is the batch's child that runs multiprocessing's spawn main; kill it
    # while it grades ann (her sigmoid sleeps), once her temporary folder exists.
    deadline, worker = time.monotonic() + 120, None
    while time.monotonic() < deadline and not list(out.glob('submissions/.tmp-ann-*')):
        time.sleep(0.05)
    table = subprocess.run(['ps', '-ww', '-eo', 'pid=,ppid=,args='], capture_output=True,
                           text=True).stdout
    for line in table.splitlines():
        pid, ppid, args = line.split(None, 2)
        if int(ppid) == process.pid and '--multiprocessing-fork' in args:
            worker = int(pid)
    assert worker, table
    os.kill(worker, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    batch = json.loads((out / 'batch.json').read_text())
    statuses = {s['id']: (s['status'], s['reason']) for s in batch['students']}
    assert statuses['ann'][0] == 'not graded' and 'worker died' in statuses['ann'][1]
    assert all(statuses[s][0] == 'graded' for s in ('ben', 'cid', 'dan'))
    _, rows = read_gradebook(out)
    assert rows['ann']['score'] == '' and 'worker died' in rows['ann']['note']
    again = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                            str(out), '--only', 'activations.sigmoid', '-q'], cwd=KIT,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    statuses = {s['id']: s['status'] for s in json.loads((out / 'batch.json').read_text())
                ['students']}
    assert statuses['ann'] == 'graded'  # picked up again


def test_workers_that_cannot_start_stop_the_batch_with_the_reason_and_leave_none(tmp_path):
    """Workers start together; when one cannot (here: limits the sandbox does not know),
    the batch says why and no worker is left running."""
    import multiprocessing
    from autograder.course.batch import grade_batch
    from autograder.course.discover import BatchError
    for student in ('ann', 'ben'):
        make_submission(tmp_path / 'class' / student)
    with pytest.raises(BatchError, match='a grading worker cannot start: TypeError'):
        grade_batch(tmp_path / 'class', tmp_path / 'out', jobs=2, progress=False,
                    only=['activations.sigmoid'], limits_kwargs={'no_such_limit': 1})
    assert multiprocessing.active_children() == []


@pytest.mark.slow
def test_hostile_file_names_never_stop_the_batch_or_share_a_folder(tmp_path):
    folder = tmp_path / 'class'
    folder.mkdir()
    zipped = tmp_path / 'one.zip'
    assert collect(make_submission(tmp_path / 'pkg'), zipped).returncode == 0
    names = ['=HYPERLINK("evil")', '+SUM(A1)', '@cmd', 'bob?', 'bob_',
             '\x1b[2Jclear', 'x' * 200]
    hashed = folder_names(['bob?'])[0]
    names.append(hashed)  # a crafted name equal to another student's folder
    for name in names:
        shutil.copy(zipped, folder / f'{name}.zip')
    latin = os.path.join(os.fsencode(folder), b'caf\xe9.zip')
    shutil.copy(zipped, os.fsdecode(latin))
    out = tmp_path / 'out'
    result = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                             str(out), '--only', 'softmax.values', '-j', '2'], cwd=KIT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert '\x1b' not in result.stdout + result.stderr
    batch = json.loads((out / 'batch.json').read_text())
    folders = [s['folder'] for s in batch['students']]
    assert len(folders) == len(set(folders)) == len(names) + 1
    assert all(s['status'] == 'graded' and s['score'] == 3 for s in batch['students'])
    with open(out / 'gradebook.csv', newline='', encoding='utf-8') as f:
        cells = [row[3] for row in csv.reader(f)][1:]
    assert all(not c.startswith(('=', '+', '-', '@')) for c in cells), cells
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert (out / 'report' / 'index.html').is_file()


@pytest.mark.slow
def test_out_inside_the_submissions_folder_and_out_naming_a_file(tmp_path):
    folder = tmp_path / 'class'
    make_submission(folder / 'ann')
    first = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                            str(folder / 'grades'), '--only', 'softmax.values', '-q'], cwd=KIT,
                           capture_output=True, text=True, timeout=300)
    second = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                             str(folder / 'grades'), '--only', 'softmax.values', '-q'], cwd=KIT,
                            capture_output=True, text=True, timeout=300)
    assert first.returncode == second.returncode == 0
    batch = json.loads((folder / 'grades' / 'batch.json').read_text())
    assert [s['id'] for s in batch['students']] == ['ann']
    assert "grades: the batch's output folder, not a submission" in batch['problems']
    (tmp_path / 'file').write_text('x')
    bad = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                          str(tmp_path / 'file')], cwd=KIT, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and 'is a file' in bad.stderr and 'Traceback' not in bad.stderr


def _gradescope_metadata(created, due='2026-11-20T10:00:00Z', late_due='2026-11-25T10:00:00Z'):
    return json.dumps({'created_at': created,
                       'assignment': {'due_date': due, 'late_due_date': late_due}})


def test_late_work_times_come_from_outside_the_submission(tmp_path):
    """Gradescope's metadata (from --metadata, outside the submissions), then the roster's
    submitted_at, then the file's time; a submission_metadata.json inside a submission is
    the student's own file and changes nothing."""
    folder, meta = tmp_path / 'class', tmp_path / 'metadata'
    meta.mkdir()
    for student in ('early', 'late', 'forger', 'scope', 'listed'):
        (folder / student).mkdir(parents=True)
    due = time.time() - 3 * 86400
    # The forger claims an early time and a far due date from inside the submission.
    (folder / 'forger' / 'submission_metadata.json').write_text(_gradescope_metadata(
        '2000-01-01T00:00:00Z', due='2099-01-01T00:00:00Z', late_due='2099-01-02T00:00:00Z'))
    os.utime(folder / 'forger', (due + 60, due + 60))  # just late: one started day
    os.utime(folder / 'early', (due - 60, due - 60))
    os.utime(folder / 'late', (due + 86400 + 60, due + 86400 + 60))  # two started days
    (meta / 'scope.json').write_text(_gradescope_metadata('2026-11-20T12:00:00Z'))
    (meta / 'forger.json').write_text('{not json')  # unusable: passed over, and said so
    policy = Policy.from_options(due=time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(due)),
                                 grace='0', per_day='10%', cap='50%', metadata=meta)
    assert timing(str(folder / 'early'), policy).penalty == 0
    late = timing(str(folder / 'late'), policy)
    assert late.penalty == pytest.approx(0.2) and late.source == late_module.FROM_FILE
    forger = timing(str(folder / 'forger'), policy)
    assert forger.penalty == pytest.approx(0.1) and forger.source == late_module.FROM_FILE
    assert forger.due == policy.due and 'forger.json: not JSON' in forger.problem
    scope = timing(str(folder / 'scope'), policy)
    assert scope.source == late_module.FROM_METADATA and scope.penalty == pytest.approx(0.1)
    listed = timing(str(folder / 'listed'), policy,
                    time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(due + 3 * 86400 - 5)))
    assert listed.source == late_module.FROM_ROSTER and listed.penalty == pytest.approx(0.3)
    # After Gradescope's late due date nothing counts.
    (meta / 'scope.json').write_text(_gradescope_metadata('2026-11-26T12:00:00Z'))
    assert timing(str(folder / 'scope'), policy).penalty == 1.0


def test_a_metadata_file_must_be_a_small_regular_json_object(tmp_path):
    from autograder.course.late import PolicyError, read_metadata
    target = tmp_path / 'real.json'
    target.write_text('{"created_at": "2026-11-20T12:00:00Z"}')
    (tmp_path / 'link.json').symlink_to(target)
    (tmp_path / 'big.json').write_text('{"x": "' + 'a' * 5000 + '"}')
    (tmp_path / 'list.json').write_text('[1, 2]')
    os.mkfifo(tmp_path / 'fifo.json')
    assert read_metadata(target)['created_at']
    for name, reason in (('link.json', 'cannot open'), ('big.json', 'more than'),
                         ('list.json', 'not a JSON object'), ('fifo.json', 'not a regular'),
                         ('missing.json', 'cannot open')):
        with pytest.raises(PolicyError, match=reason):
            read_metadata(tmp_path / name, limit=4096)
    with pytest.raises(PolicyError, match='inside the submissions folder'):
        Policy.from_options(metadata=tmp_path).check_outside(tmp_path)
    with pytest.raises(PolicyError, match='not a folder'):
        Policy.from_options(metadata=target)


@pytest.mark.slow
def test_late_work_in_the_gradebook_names_where_each_time_came_from(tmp_path):
    folder, meta = tmp_path / 'class', tmp_path / 'metadata'
    meta.mkdir()
    for student in ('early', 'late', 'scope', 'forger'):
        make_submission(folder / student)
    due = time.time() - 3 * 86400
    os.utime(folder / 'early', (due - 60, due - 60))
    (folder / 'forger' / 'submission_metadata.json').write_text(_gradescope_metadata(
        '2000-01-01T00:00:00Z', due='2099-01-01T00:00:00Z'))
    for student in ('late', 'forger'):
        os.utime(folder / student, (due + 86400 + 60, due + 86400 + 60))  # two started days
    (meta / 'scope.json').write_text(_gradescope_metadata('2026-11-20T12:00:00Z'))
    out = tmp_path / 'out'
    result = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                             str(out), '--only', 'softmax.*', '-q', '--due',
                             time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(due)),
                             '--late-per-day', '10%', '--late-cap', '50%',
                             '--metadata', str(meta)], cwd=KIT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    _, rows = read_gradebook(out)
    assert float(rows['early']['late_submission_penalty']) == 0 and rows['early']['duedate']
    assert rows['early']['note'] == "on time; time from the file's modification time"
    for student in ('late', 'forger'):
        assert float(rows[student]['late_submission_penalty']) == pytest.approx(1.2), student
        assert float(rows[student]['score']) == pytest.approx(4.8), student
        assert rows[student]['note'] == \
            "late: 1.2 points off; time from the file's modification time", student
    assert float(rows['scope']['late_submission_penalty']) == pytest.approx(0.6)
    assert rows['scope']['timestamp'].startswith('2026-11-20T12:00')
    assert rows['scope']['note'] == "late: 0.6 points off; time from Gradescope's metadata"
    inside = subprocess.run([sys.executable, '-m', 'autograder', 'batch', str(folder), '--out',
                             str(tmp_path / 'out2'), '--metadata', str(folder / 'scope')],
                            cwd=KIT, capture_output=True, text=True, timeout=60)
    assert inside.returncode == 2 and 'inside the submissions folder' in inside.stderr


def test_discover_lists_what_is_not_a_submission(tmp_path):
    (tmp_path / 'ann').mkdir()
    (tmp_path / 'ann.zip').write_bytes(b'')
    (tmp_path / '.DS_Store').write_text('')
    (tmp_path / 'notes.txt').write_text('')
    os.symlink(tmp_path / 'ann', tmp_path / 'link')
    entries, problems = discover(tmp_path)
    assert sorted(e.submission.rsplit('/', 1)[1] for e in entries) == ['ann', 'ann.zip']
    assert {e.status for e in entries} == {'duplicate'}
    text = '\n'.join(problems)
    assert '.DS_Store: hidden' in text and 'notes.txt: not a .zip' in text
    assert 'link: a symbolic link' in text


@pytest.mark.slow
def test_a_run_slow_by_itself_is_scored_never_left_ungraded(rubric, tmp_path):
    """A run whose own processes keep it waiting for a CPU (here a CPU quota of a tenth of
    a core: its wait grows as a herd of its own processes would make it) on a quiet
    machine: the student's time, a failed test at once, the batch row scored."""
    from autograder.course.batch import grade_batch
    from autograder.course.class_report import write_class_report
    folder = tmp_path / 'class'
    make_submission(folder / 'spinner', attacks={BASE: [('ReLU', 'while True: pass')]})
    out = tmp_path / 'out'
    starved = dict(cpu_cores=0.1, patience=2, wall_floor=2)
    document = grade_batch(folder, out, rubric=rubric, only=['activations.relu'],
                           progress=False, limits_kwargs=starved)
    (entry,) = document['students']
    assert entry['status'] == 'graded' and entry['score'] == 0, entry
    results = json.loads((out / 'submissions' / 'spinner' / 'results.json').read_text())
    output = results['tests'][0]['output']
    # Quiet machine: its own time; beside other work (.ci/under-load): busy, retried, and
    # still scored. Never "not graded".
    assert any(words in output for words in ('the machine was not busy', 'budget of CPU time',
                                             'grading machine was busy')), output
    _, rows = read_gradebook(out)
    assert rows['spinner']['score'] != ''
    assert 'not graded because of the grading machine' not in write_class_report(out).read_text()
