"""Test health: a test the class fails en masse is named by `batch` and the class report.

A class is built the way `autograder batch` leaves it (results.json per
student): most students fail one test with the same message (as 22 of 22 did
loss.zero_probability in a real class), a few fail another test each for
their own reasons. The en-masse test is flagged, the scattered ones are not,
and both the report's "Test health" table and the batch's last lines say so.
"""
import json
import random
from types import SimpleNamespace

from autograder.catalogue import load_catalogue
from autograder.commands.batch import print_health
from autograder.course.class_report import ClassReportError, flagged_tests, write_class_report
from autograder.course.health import MIN_CLASS, class_health
from autograder.grading import report

CATALOGUE = load_catalogue()
EN_MASSE = 'loss.zero_probability'


def _student(rng, fails):
    """A results.json in which the tests of `fails` {id: message} fail."""
    results = []
    for number, test in enumerate(CATALOGUE.tests, 1):
        spec = test.spec
        message = fails.get(spec.id)
        results.append(SimpleNamespace(
            id=spec.id, title=spec.title, number=str(number),
            score=0.0 if message else spec.points, max_score=spec.points,
            status='failed' if message else 'passed', output=message or 'correct',
            visibility=spec.visibility))
    return report.results_json(results, [], 1.0, {})


def _class(folder, students=20, seed=3):
    rng = random.Random(seed)
    entries = []
    for k in range(students):
        fails = {}
        if k < students - 2:  # all but two fail it, with one message (numbers differ)
            fails[EN_MASSE] = (f"cross_entropy_loss() is not finite when the true class has "
                               f"probability 0 ({rng.random():.3f})")
        if k % 7 == 0:  # a few fail something else, each their own way
            fails['softmax.values'] = f"softmax(): relative error {rng.random():.2e} in row {k}"
        document = _student(rng, fails)
        sid = f"s{k:02d}"
        (folder / 'submissions' / sid).mkdir(parents=True)
        (folder / 'submissions' / sid / 'results.json').write_text(json.dumps(document))
        entries.append({'id': sid, 'submission': f'/srv/{sid}.zip', 'status': 'graded',
                        'score': document['score'], 'max_score': CATALOGUE.total,
                        'seconds': 1.0, 'reason': None})
    (folder / 'batch.json').write_text(json.dumps({
        'rubric_total': CATALOGUE.total, 'students': entries, 'problems': [], 'jobs': 2}))
    return folder


def test_a_test_the_class_fails_en_masse_is_flagged_by_the_report_and_batch(tmp_path, capsys):
    folder = _class(tmp_path / 'grades')
    flagged = flagged_tests(folder)
    assert [h.id for h in flagged] == [EN_MASSE]
    assert '18 of 20' in flagged[0].why() and 'not finite' in flagged[0].why()
    page = write_class_report(folder).read_text()
    assert 'Test health' in page and 'failed by most of the class' in page
    assert f'{EN_MASSE} <b>(flagged)</b>' in page
    print_health(folder, flagged_tests, ClassReportError)
    printed = capsys.readouterr().out
    assert 'test health: 1 test(s) failed by most of the class' in printed
    assert EN_MASSE in printed and 'softmax.values' not in printed


def test_health_masks_numbers_and_needs_a_class():
    rng = random.Random(0)
    same = [_student(rng, {'metrics.accuracy': f"off by {rng.random():.4f}"}) for _ in range(6)]
    (entry,) = [h for h in class_health(same) if h.id == 'metrics.accuracy']
    assert entry.flagged and entry.message == 'off by #' and entry.message_count == 6
    few = same[:MIN_CLASS - 1]
    assert not any(h.flagged for h in class_health(few))
    # one message for half the class flags a test even when fewer than 80% fail it
    half = [_student(rng, {'batching.order': 'not numpy arrays'}) for _ in range(5)] + \
        [_student(rng, {}) for _ in range(5)]
    (order,) = [h for h in class_health(half) if h.id == 'batching.order']
    assert order.flagged and order.failed == 5
    # hostile documents are skipped, never raised on
    assert class_health([None, {'tests': 'x'}, {'tests': [None, {'name': 7}]}]) is not None
