"""End-to-end grading: the reference scores full marks, the stubs zero, every bug loses
exactly the tests that name it, and no attack gets past the sandbox."""
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from autograder.catalogue import load_catalogue
from autograder.grading.grader import Grader
from autograder.grading.sandbox import Limits, seccomp
from grading import (collect, failing, load_results, make_submission, output_of,
                     quick_rubric, scores)
from helpers import KIT, SOLUTIONS, STUDENT, run

pytestmark = pytest.mark.usefixtures('mnist')
TEST_KEYS = {'name', 'number', 'score', 'max_score', 'status', 'output', 'visibility'}
CATALOGUE = load_catalogue()
TOTAL = CATALOGUE.total


def check_gradescope_schema(document):
    """results.json as Gradescope's autograder specification describes it."""
    assert set(document) <= {'score', 'execution_time', 'output', 'visibility',
                             'stdout_visibility', 'tests', 'leaderboard', 'extra_data',
                             'output_format', 'test_output_format', 'test_name_format'}
    assert isinstance(document['score'], (int, float))
    assert isinstance(document['execution_time'], (int, float))
    assert isinstance(document['output'], str)
    for test in document['tests']:
        assert set(test) == TEST_KEYS
        assert test['status'] in ('passed', 'failed')
        assert test['visibility'] in ('visible', 'hidden', 'after_due_date', 'after_published')
        assert 0 <= test['score'] <= test['max_score']
        assert isinstance(test['name'], str) and isinstance(test['output'], str)
    for entry in document['leaderboard']:
        assert set(entry) == {'name', 'value', 'order'}


def grade_cli(submission, out, *args, env=None):
    return run([sys.executable, '-m', 'autograder', 'grade', str(submission), '--out', str(out),
                *args], env=env, timeout=900)


@pytest.mark.slow
def test_reference_solution_scores_full_marks(tmp_path):
    folder = make_submission(tmp_path / 'pkg')
    assert collect(folder, tmp_path / 'sub.zip').returncode == 0
    result = grade_cli(tmp_path / 'sub.zip', tmp_path / 'out')
    assert result.returncode == 0, result.stderr
    document = load_results(tmp_path / 'out')
    check_gradescope_schema(document)
    assert failing(document) == [], [output_of(document, t) for t in failing(document)]
    assert document['score'] == TOTAL and len(document['tests']) == len(CATALOGUE.tests)
    names = {e['name'] for e in document['leaderboard']}
    assert names == set(CATALOGUE.leaderboard().values())
    summary = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    assert summary['status'] == 'graded' and summary['percent'] == 100.0
    assert len(summary['digest']) == 64 and set(summary['cpu']) == set(CATALOGUE.by_id)
    if os.geteuid() == 0:
        assert 'in force: unprivileged user' in summary['protections']
    assert f'Total: {TOTAL:g} / {TOTAL:g} points (100.0%)' in result.stdout
    print(f"\nend-to-end grading of the reference: {summary['seconds']}")


def test_untouched_stubs_score_zero_without_crashing(tmp_path):
    assert collect(STUDENT, tmp_path / 'stubs.zip').returncode == 0
    result = grade_cli(tmp_path / 'stubs.zip', tmp_path / 'out', '-q')
    assert result.returncode == 0, result.stderr
    document = load_results(tmp_path / 'out')
    check_gradescope_schema(document)
    assert document['score'] == 0 and len(document['tests']) == len(CATALOGUE.tests)
    for test in document['tests']:
        # A run that trained on the secret split shows the exception's type, not its words.
        words = 'NotImplementedError raised' if test['name'].startswith('accuracy.') else \
            'is not implemented yet'
        assert words in test['output'], test


@pytest.fixture(scope='module')
def grader():
    with Grader() as instance:
        yield instance


# bug -> (edits of the reference, the tests it must fail: the ones that name it)
BUGS = {
    'gradients summed, not averaged, over the batch': (
        {'models/two_layer_nn.py': [('        dZ2 /= n\n', '')]},
        ['two_layer.gradients']),
    'regularized biases': (
        {'optimizer/_base_optimizer.py': [("if name.startswith('W'):", "if True:")]},
        ['regularization']),
    'biases never updated': (
        {'optimizer/sgd.py': [('            weight -= self.learning_rate * model.gradients[name]',
                               "            if not name.startswith('b'):\n"
                               "                weight -= self.learning_rate * model.gradients[name]"
                               )]},
        ['sgd.step']),
    'unstable softmax': (
        {'models/_base_network.py': [('np.exp(scores - scores.max(axis=1, keepdims=True))',
                                      'np.exp(scores)')]},
        ['softmax.stability']),
    'log of 0 not clipped': (
        {'models/_base_network.py': [('np.maximum(picked, tiny)', 'picked')]},
        ['loss.zero_probability']),
    'dropped last batch': (
        {'utils.py': [('starts = range(0, len(data), batch_size)',
                       'starts = range(0, len(data) - batch_size + 1, batch_size)')]},
        ['batching.partial_batch']),
    'sigmoid of 2x (sigmoid_dev and TwoLayerNet call it)': (
        {'models/_base_network.py': [('1 / (1 + np.exp(-np.asarray(X)))',
                                      '1 / (1 + np.exp(-2 * np.asarray(X)))')]},
        ['activations.sigmoid']),
    'wrong split': (
        {'utils.py': [('n_train = len(images) * 4 // 5', 'n_train = 50000')]},
        ['data.split']),
}


@pytest.mark.slow
@pytest.mark.parametrize('bug', list(BUGS))
def test_a_bug_loses_exactly_the_tests_that_name_it(grader, tmp_path, bug):
    changes, broken = BUGS[bug]
    files = list(changes)
    only = [t.id for t in CATALOGUE.tests if t.affected_by(files)]
    document, _ = grader.grade(make_submission(tmp_path / 'pkg', changes), tmp_path / 'out',
                               only=only)
    check_gradescope_schema(document)
    failed = failing(document)
    # A model whose backward pass is wrong may still learn, or not, on the course's split
    # (summed gradients train with a step 64 times too big: 0.90 to 0.93 across secrets
    # against 0.915 needed). Training it is judged as is; if it falls short, its message
    # must send the student to the gradient test, the real cause.
    cause = BORDERLINE.get(bug)
    if cause and cause[0] in failed:
        assert f'the model fails {cause[1]}' in output_of(document, cause[0])
        failed.remove(cause[0])
    assert failed == sorted(broken), [(t['name'], t['output'])
                                      for t in document['tests'] if t['status'] != 'passed']


# bug -> (an accuracy test it may fail as well, the test whose failure its message must name)
BORDERLINE = {
    'gradients summed, not averaged, over the batch': ('accuracy.two_layer',
                                                       'two_layer.gradients'),
}


BASE = 'models/_base_network.py'
ADD_KEY = seccomp.DENIED.get(seccomp.machine(), {}).get('add_key', 248)


def attacks(out_dir, port):
    """attack -> (attacked test, {file: [(function, code put at its top)]}, words its
    feedback must contain)."""
    secrets = [str(KIT / 'autograder' / 'catalogue' / 'functions.py'),
               str(KIT / 'autograder' / 'rubric.yaml'), str(SOLUTIONS / 'optimizer' / 'sgd.py'),
               str(KIT / 'data' / 'mnist' / 't10k-labels-idx1-ubyte.gz')]
    return {
        'sys.exit': ('activations.sigmoid', {BASE: [('sigmoid', 'import sys; sys.exit(0)')]},
                     'sys.exit(0)'),
        'os._exit': ('activations.sigmoid', {BASE: [('sigmoid', 'import os; os._exit(0)')]},
                     'without returning a result'),
        'endless loop': ('activations.relu', {BASE: [('ReLU', 'while True: pass')]},
                         'budget of CPU time'),
        'memory bomb': ('activations.relu', {BASE: [('ReLU', 'hog = []\nwhile True: '
                                                            'hog.append(bytearray(400 * 2**20))')]},
                        'MemoryError'),
        'fork bomb': ('activations.relu', {BASE: [('ReLU', 'import os\nwhile True:\n'
                                                          '    try: os.fork()\n'
                                                          '    except OSError: pass')]},
                      'budget of CPU time'),
        'output flood': ('activations.relu',
                         {BASE: [('ReLU', "while True: print('{\"score\": 100}' * 1000)")]},
                         'budget of CPU time'),
        'sleeping forever': ('activations.relu', {BASE: [('ReLU', 'import time\n'
                                                                  'time.sleep(10**6)')]},
                             'without computing'),
        'object equal to everything': (
            'metrics.accuracy',
            {BASE: [('compute_accuracy', 'class E:\n    def __eq__(s, o): return True\n'
                                         '    def __float__(s): return 1.0\nreturn E()')]},
            'not numbers'),
        'lying ndarray subclass': (
            'softmax.values',
            {BASE: [('softmax', 'class Liar(np.ndarray):\n    def __eq__(s, o): '
                                'return np.ones(np.shape(s), bool)\n'
                                'return np.zeros(np.shape(scores)).view(Liar)')]},
            'relative error'),
        'writing results.json': (
            'regularization',
            {'optimizer/_base_optimizer.py': [(
                'apply_regularization',
                f"for p in [{str(out_dir / 'results.json')!r}, 'results.json',\n"
                "          '/autograder/results/results.json']:\n"
                "    try: open(p, 'w').write('{\"score\": 1000}')\n"
                "    except OSError: pass\n"
                "return")]},
            'not regularized'),
        'reading the hidden tests and the reference': (
            'sgd.step',
            {'optimizer/sgd.py': [(
                'update', f"found = []\nfor p in {secrets!r}:\n"
                          "    try: found.append(open(p, 'rb').read(40))\n"
                          "    except OSError as e: found.append('BLOCKED')\n"
                          "raise RuntimeError(repr(found))")]},
            "['BLOCKED', 'BLOCKED', 'BLOCKED', 'BLOCKED']"),
        'patching numpy': (
            'batching.order',
            {'utils.py': [('generate_batched_data',
                           'np.array_equal = np.allclose = lambda *a, **k: True\n'
                           'data = np.asarray(data)[::-1]')]},
            'no longer paired'),
        'opening a socket': (
            'data.split',
            {'utils.py': [('load_mnist_trainval',
                           f"import socket\nsocket.create_connection(('127.0.0.1', {port}), "
                           f"timeout=3).sendall(b'stolen')")]},
            'Network is unreachable'),
        'the kernel keyring': (
            'activations.relu',
            {BASE: [('ReLU', "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                             f"key = libc.syscall({ADD_KEY}, b'user', b'note', b'hi', 2, -3)\n"
                             "raise RuntimeError('keyring ' + str(key) + ' errno ' "
                             "+ str(ctypes.get_errno()))")]},
            'keyring -1 errno 1'),
    }


@pytest.fixture(scope='module')
def listener():
    """A TCP server on the host's loopback that records anything it receives."""
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(5)
    server.settimeout(0.2)
    received, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100))
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


ATTACKS = list(attacks(KIT, 0))


@pytest.fixture(scope='module')
def attack_grader(tmp_path_factory):
    # Small CPU budgets and 1 GiB of address space: the attacks hit the limits sooner.
    limits = Limits(memory_bytes=3 * 2**29, address_space_bytes=2**30, idle_seconds=5)
    with Grader(rubric_path=quick_rubric(tmp_path_factory.mktemp('rubric'), cpu=4),
                limits=limits) as g:
        yield g


@pytest.mark.slow
@pytest.mark.parametrize('attack', ATTACKS)
def test_an_attack_scores_zero_on_what_it_attacks_and_nothing_else_moves(
        attack_grader, listener, tmp_path, attack):
    port, received = listener
    out = tmp_path / 'out'
    target, code, feedback = attacks(out, port)[attack]
    control = 'loss.cross_entropy'
    document, summary = attack_grader.grade(make_submission(tmp_path / 'pkg', attacks=code), out,
                                            only=[target, control])
    check_gradescope_schema(document)
    assert summary['status'] == 'graded'
    assert scores(document) == {target: 0.0, control: 3.0}
    assert feedback in output_of(document, target), output_of(document, target)
    assert load_results(out) == document  # what the judge wrote, nobody else
    assert received == []
    # Zombies (state Z) are dead and wait only for their parent's reaping.
    table = subprocess.run(['ps', '-eo', 'uid=,stat='], capture_output=True, text=True).stdout
    alive = {line.split()[0] for line in table.splitlines() if not line.split()[1].startswith('Z')}
    uid = attack_grader.sandbox.uid
    assert uid is None or str(uid) not in alive, "a sandboxed process survived"


def test_files_off_the_list_never_run(grader, tmp_path):
    marker = tmp_path / 'ran'
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    folder = make_submission(tmp_path / 'pkg', extra={
        'sitecustomize.py': payload, 'conftest.py': payload, 'usercustomize.py': payload,
        'models/evil.pth': 'import os; ' + payload, 'tests/test_x.py': payload})
    assert collect(folder, tmp_path / 'sub.zip').returncode == 0
    with __import__('zipfile').ZipFile(tmp_path / 'sub.zip', 'a') as archive:
        for name in ('sitecustomize.py', 'conftest.py', 'models/evil.pth', 'tests/test_x.py'):
            archive.writestr(name, payload)
    document, _ = grader.grade(tmp_path / 'sub.zip', tmp_path / 'out', only=['two_layer.loss'])
    assert document['score'] == 4 and not marker.exists()
    assert 'ignored (not on the list of submitted files): conftest.py, models/evil.pth, ' \
           'sitecustomize.py, tests/test_x.py' in document['output']


def test_missing_file_zeroes_the_tests_that_need_it(grader, tmp_path):
    folder = make_submission(tmp_path / 'pkg', drop=('models/two_layer_nn.py',))
    document, _ = grader.grade(folder, tmp_path / 'out', only=['two_layer.loss', 'softmax.values'])
    assert scores(document) == {'two_layer.loss': 0.0, 'softmax.values': 3.0}
    assert output_of(document, 'two_layer.loss') == 'not submitted: models/two_layer_nn.py'


def test_the_reference_answers_a_request_every_submission_asks_once_per_grader(grader, tmp_path):
    """data.split asks the reference the same thing for every submission: it runs once."""
    store = grader.reference_answers
    verdicts = []
    for name, changes in (('a', None), ('b', BUGS['wrong split'][0]), ('c', None)):
        folder = make_submission(tmp_path / name, changes=changes)
        hits, size = store.hits, len(store)
        document, _ = grader.grade(folder, tmp_path / f'{name}-out', only=['data.split'])
        verdicts.append(scores(document)['data.split'] > 0)
        if name != 'a':  # the first grading may have been the one that ran it
            assert store.hits == hits + 1 and len(store) == size, name
    assert verdicts == [True, False, True]


def test_one_reference_process_serves_every_grading_and_its_death_costs_no_verdict(
        grader, tmp_path):
    """The Grader keeps one reference process; killed, the grading falls back to a fresh run."""
    process = grader.reference_process
    only = ['softmax.values', 'two_layer.gradients', 'regularization']
    bug, lost = BUGS['regularized biases']
    assert set(lost) < set(only)
    for step, name in enumerate(['right', 'wrong', 'right', 'wrong']):
        # Four different submissions: a request seen before would not ask the reference.
        first = 'import numpy as np\n'
        changes = {**(bug if name == 'wrong' else {}),
                   'utils.py': [(first, f'{first}# submission {step}\n')]}
        folder = make_submission(tmp_path / f'pkg{step}', changes)
        if step == 2:
            process._proc.kill()  # between two gradings, as an OOM killer would
        document, _ = grader.grade(folder, tmp_path / f'out{step}', only=only)
        assert len(document['tests']) == len(only)
        assert failing(document) == (sorted(lost) if name == 'wrong' else []), document['tests']
        if step == 1:
            starts = process.starts
    assert process.starts == starts + 1  # the killed one was replaced once, after its grading


def test_every_student_run_has_the_font_cache_before_the_code_is_imported(grader, tmp_path):
    """The course's utils.py imports pyplot at its top: the run must not build the font list."""
    check = ("import glob as _glob, os as _os\n"
             "if not _glob.glob(_os.path.join(_os.environ['MPLCONFIGDIR'], 'fontlist-*.json')):\n"
             "    raise RuntimeError('no font cache')\n")
    first = 'import numpy as np\n'
    folder = make_submission(tmp_path / 'pkg', changes={
        'utils.py': [(first, first + check)], 'models/_base_network.py': [(first, first + check)]})
    tests = ['data.split', 'softmax.values', 'accuracy.softmax_regression']
    for only in (tests, tests[1:2], tests[2:]):  # public data, none, the training split
        document, _ = grader.grade(folder, tmp_path / 'out', only=only)
        assert all(t['score'] == t['max_score'] for t in document['tests']), document['tests']


def test_a_grading_that_needs_no_data_builds_only_the_font_cache(tmp_path):
    """The font cache every run gets must not cost a narrow grading the public CSV files."""
    with Grader() as own:
        document, _ = own.grade(make_submission(tmp_path / 'pkg'), tmp_path / 'out',
                                only=['softmax.values'])
        assert [t['score'] for t in document['tests']] == [t['max_score']
                                                           for t in document['tests']]
        built = sorted(p.name.split('-')[0] for p in own.root.iterdir()
                       if p.name.startswith(('public-', 'fonts-', 'train-')))
        assert built == ['fonts'], built


def test_hidden_inputs_differ_between_submissions_and_stay_for_a_regrade(grader, tmp_path):
    """An error that echoes its input learns nothing another submission could use."""
    leak = {BASE: [('softmax', "raise ValueError(repr(np.asarray(scores).ravel()[:3].tolist()))")]}
    outputs = []
    for name, comment in (('a', '# one\n'), ('b', '# two\n'), ('a2', '# one\n')):
        folder = make_submission(tmp_path / name, attacks=leak,
                                 extra={'models/note.py': comment})
        document, summary = grader.grade(folder, tmp_path / f'{name}-out', only=['softmax.values'])
        outputs.append((summary['digest'], output_of(document, 'softmax.values')))
    assert outputs[0] == outputs[2]  # the same files: the same inputs, the same feedback
    assert outputs[0][0] != outputs[1][0]
    for _, text in outputs:
        assert 'ValueError' in text and '[...]' in text  # the numbers themselves are scrubbed


def test_unreadable_zip_still_gives_valid_results(tmp_path):
    (tmp_path / 'broken.zip').write_bytes(b'PK\x03\x04 not really')
    result = grade_cli(tmp_path / 'broken.zip', tmp_path / 'out', '-q')
    assert result.returncode == 0
    document = load_results(tmp_path / 'out')
    check_gradescope_schema(document)
    assert document['score'] == 0 and 'could not be read' in document['output']
    summary = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    assert summary['status'] == 'unreadable'


def test_rubric_typo_is_a_usage_error(tmp_path):
    rubric = tmp_path / 'rubric.yaml'
    rubric.write_text((KIT / 'autograder' / 'rubric.yaml').read_text()
                      .replace('    tolerance: 1.0e-7', '    tolerence: 1.0e-7', 1))
    result = grade_cli(SOLUTIONS, tmp_path / 'out', '--rubric', str(rubric))
    assert result.returncode == 2
    assert "unknown 'tolerence' (did you mean 'tolerance'?)" in result.stderr


def test_calibration_rewrites_only_bands_and_budgets_and_reads_back(tmp_path):
    from autograder.authoring.calibrate import write_rubric
    original = (KIT / 'autograder' / 'rubric.yaml').read_text()
    rubric = tmp_path / 'rubric.yaml'
    rubric.write_text(original)
    bands = [{'min_accuracy': 0.5, 'credit': 1.0}, {'min_accuracy': 0.45, 'credit': 0.5}]
    calibration = {'seeds': [0, 1], 'accuracies': [0.6, 0.7], 'mean': 0.65,
                   'min': 0.6, 'max': 0.7, 'measured': 'in a test',
                   'epochs_to_full_credit': [1, 2]}
    for _ in range(2):  # a second run replaces the first, it does not stack
        write_rubric(rubric, {'accuracy.softmax_regression': (bands, calibration)},
                     {'activations.sigmoid': 15.0})
    written = load_catalogue(rubric)
    test = written.by_id['accuracy.softmax_regression']
    assert test.p['bands'] == tuple(bands)
    assert written.by_id['activations.sigmoid'].spec.cpu_seconds == 15.0
    before = CATALOGUE.by_id
    for test_id, test in written.by_id.items():
        if test_id not in ('accuracy.softmax_regression', 'activations.sigmoid'):
            assert test.spec == before[test_id].spec
    lines, before_lines = rubric.read_text().splitlines(), original.splitlines()
    assert len(lines) == len(before_lines)  # same keys, same shape: nothing stacked
    assert [l for l in lines if l.lstrip().startswith('#')] == [
        l for l in before_lines if l.lstrip().startswith('#')]
    with pytest.raises(ValueError, match='no entry for nothing.here'):
        write_rubric(rubric, {'nothing.here': (bands, calibration)})


def test_only_selects_tests(tmp_path):
    result = grade_cli(SOLUTIONS, tmp_path / 'out', '--only', 'softmax.*', '-q')
    assert result.returncode == 0
    assert sorted(scores(load_results(tmp_path / 'out'))) == ['softmax.stability', 'softmax.values']
    bad = grade_cli(SOLUTIONS, tmp_path / 'out2', '--only', 'nothing.*')
    assert bad.returncode == 2 and 'no test matches' in bad.stderr


def test_grading_a_class_folder_with_grade_says_to_use_batch(tmp_path):
    for name in ('a', 'b'):
        make_submission(tmp_path / 'class' / name)
    result = grade_cli(tmp_path / 'class', tmp_path / 'out')
    assert result.returncode == 2 and 'autograder batch' in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and uid drop need root")
def test_missing_protections_fall_back_and_are_reported(tmp_path):
    env = {'AUTOGRADER_SANDBOX_DISABLE': 'net,pid,cgroup'}
    result = grade_cli(SOLUTIONS, tmp_path / 'out', '--only', 'softmax.values', env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    assert summary['score'] == 3
    protections = '\n'.join(summary['protections'])
    assert 'not available: no network (private network namespace) (disabled' in protections
    assert 'in force: unprivileged user' in protections
    assert 'in force: private filesystem view' in protections
    assert 'in force: seccomp filter' in protections


@pytest.mark.slow
def test_the_time_limit_stops_student_code_and_still_writes_results(tmp_path):
    # Training that never ends at the batch size of the accuracy tests (the unit
    # tests use other sizes): its CPU budget is minutes, more than Gradescope's
    # timeout leaves at half a CPU; the grading's time limit ends it first.
    spin = "if len(X) == 64:\n    while True:\n        pass"
    folder = make_submission(tmp_path / 'pkg', attacks={
        'models/two_layer_nn.py': [('forward', spin)]})
    out = tmp_path / 'out'
    result = grade_cli(folder, out, '--only', 'accuracy.two_layer', '--only', 'softmax.*',
                       '--time-limit', '40', '-q')
    assert result.returncode == 0, result.stderr
    document = load_results(out)
    assert scores(document)['accuracy.two_layer'] == 0.0
    assert "the grading's time limit ran out" in output_of(document, 'accuracy.two_layer')
    # Tests decided before the limit keep their points.
    assert scores(document)['softmax.values'] > 0 and scores(document)['softmax.stability'] > 0
    assert grade_cli(folder, tmp_path / 'out2', '--time-limit', '0').returncode == 2
