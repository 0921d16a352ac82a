"""The class report of a batch: every figure loads in a real (headless) browser, student
names are escaped, and odd batches (empty, nothing graded, hundreds of students) render."""
import json
import random
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from autograder.catalogue import load_catalogue
from autograder.course.class_report import ClassReportError, write_class_report
from autograder.grading import report

CHROMIUM = ('chromium', 'chromium-browser', 'google-chrome')
SCRIPT_ID = 'x<script>alert(1)'      # a file name a student could choose
MATH_ID = r'bad$\frac$_name'          # mathtext in a matplotlib label must not break it
FIGURES = ['accuracy.png', 'scores.png', 'slowest.png', 'tests.png']


CATALOGUE = load_catalogue()


def rubric():
    return tuple((test.spec, test.stage) for test in CATALOGUE.tests)


def graded_documents(rng, skill, submission):
    """results.json and summary.json of a graded student of the given skill (0..1)."""
    results, stages = [], {'intake': 0.01, 'workspace': round(rng.uniform(0.2, 0.6), 3)}
    two_layer = softmax = None
    for number, (spec, stage) in enumerate(rubric(), 1):
        passed = rng.random() < skill ** (2 if spec.points >= 8 else 0.5)
        score = spec.points if passed else (round(spec.points / 2, 1) if rng.random() < 0.3
                                            else 0.0)
        seconds = rng.uniform(0.3, 1.5) if stage != 'accuracy training' else rng.uniform(4, 20)
        stages[stage] = round(stages.get(stage, 0.0) + seconds, 3)
        results.append(SimpleNamespace(
            id=spec.id, title=spec.title, number=f"1.{number}", score=score,
            max_score=spec.points, status='passed' if passed else 'failed',
            output='' if passed else f"expected something else in {spec.id}",
            visibility=spec.visibility))
        if spec.id == 'accuracy.two_layer':
            two_layer = rng.gauss(0.925, 0.004) if passed else rng.uniform(0.1, 0.9)
        if spec.id == 'accuracy.softmax_regression':
            softmax = rng.gauss(0.81, 0.005) if passed else rng.uniform(0.1, 0.79)
    names = CATALOGUE.leaderboard()
    leaderboard = {names['accuracy.two_layer']: two_layer,
                   names['accuracy.softmax_regression']: softmax}
    stages['report'] = 0.02
    stages['total'] = round(sum(stages.values()), 3)
    document = report.results_json(results, [], stages['total'], leaderboard)
    summary = report.summary_json(document, submission, 'f' * 64, 'graded', ['uid isolation'],
                                  stages)
    return document, summary


def write_student(out, entry, document=None, summary=None):
    if document is not None:
        folder = out / 'submissions' / (entry.get('folder') or entry['id'])
        folder.mkdir(parents=True)
        (folder / 'results.json').write_text(json.dumps(document))
        if summary is not None:
            (folder / 'summary.json').write_text(json.dumps(summary))
    return entry


def make_batch(out, graded=30, seed=0, extras=True):
    """A batch folder as `autograder grade DIR --out OUT` leaves it."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    students, problems = [], []
    ids = [f"student{i:03d}" for i in range(graded)]
    if extras and graded >= 2:
        ids[0], ids[1] = SCRIPT_ID, MATH_ID
    for i, sid in enumerate(ids):
        submission = f"/srv/submissions/{sid}.zip"
        skill = 1.0 if i % 7 == 0 else rng.uniform(0.3, 1.0)
        document, summary = graded_documents(rng, skill, submission)
        if sid == MATH_ID:  # the slowest of all: its id is a label of the timing chart
            summary['seconds']['accuracy training'] += 100
            summary['seconds']['total'] += 100
        status = 'skipped' if i == 5 else 'graded'
        entry = {'id': sid, 'submission': submission, 'status': status,
                 'score': document['score'], 'max_score': 100.0,
                 'seconds': summary['seconds']['total'], 'reason': None}
        if sid == SCRIPT_ID:  # batch.json may name a folder other than the id
            entry['folder'] = 'x_script_alert_1_'
        students.append(write_student(out, entry, document, summary))
    if extras:
        refusal = report.failed_results(
            "The submission could not be read: not a readable zip file (File is not a zip "
            "file). Nothing was graded; build the zip with collect_submission.sh and upload "
            "it again.", 0.01)
        summary = report.summary_json(refusal, '/srv/submissions/refused.zip', '',
                                      'unreadable', [], {'total': 0.01})
        students.append(write_student(out, {
            'id': 'refused', 'submission': '/srv/submissions/refused.zip', 'status': 'graded',
            'score': 0.0, 'max_score': 100.0, 'seconds': 0.01, 'reason': None},
            refusal, summary))
        students.append(write_student(out, {
            'id': 'twice', 'submission': '/srv/submissions/twice', 'status': 'duplicate',
            'score': None, 'max_score': 100.0, 'seconds': None,
            'reason': 'two submissions (twice.zip, twice/): graded twice.zip'}))
        students.append(write_student(out, {
            'id': 'garbled<b>', 'submission': '/srv/submissions/garbled<b>.tar.gz',
            'status': 'unreadable', 'score': None, 'max_score': 100.0, 'seconds': None,
            'reason': 'not a zip file or a folder <img src=x onerror=alert(2)>'}))
        students.append(write_student(out, {
            'id': 'crashed', 'submission': '/srv/submissions/crashed.zip', 'status': 'not graded',
            'score': None, 'max_score': 100.0, 'seconds': 3.2,
            'reason': 'the sandbox cannot run: no user namespaces'},
            report.failed_results('The grader could not run: no user namespaces', 3.2)))
        students.append(write_student(out, {
            'id': 'absent', 'submission': '', 'status': 'missing', 'score': 0.0,
            'max_score': None, 'seconds': None, 'reason': 'no submission'}))
        problems.append('twice: two submissions (twice.zip, twice/)')
    batch = {'rubric_total': 100.0, 'students': students, 'problems': problems, 'jobs': 2,
             'started': '2024-05-01T10:00:00', 'finished': '2024-05-01T10:42:00'}
    (out / 'batch.json').write_text(json.dumps(batch, indent=2))
    return out


def chromium():
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Chromium is needed to check the class report in a real browser and is not "
                "installed: on Debian/Ubuntu run `sudo apt-get install -y "
                "--no-install-recommends chromium` (or install Chrome and put it on PATH)")


def rendered_dom(page, tmp_path):
    """The page's DOM after the load event, from headless Chromium."""
    profile = tmp_path / f'chromium-profile-{page.parent.parent.name}'
    result = subprocess.run(
        [chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
         '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--disable-extensions', f'--user-data-dir={profile}',
         '--dump-dom', page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and '<html' in result.stdout, result.stderr[-2000:]
    return result.stdout


def figures_loaded(dom):
    match = re.search(r"id=\"images-loaded\"[^>]*>", dom)
    assert match, "the page's script did not run"
    tag = match.group(0)
    loaded = re.search(r'data-loaded="(\d+)"', tag)
    total = re.search(r'data-total="(\d+)"', tag)
    assert loaded and total, tag
    return int(loaded.group(1)), int(total.group(1)), len(re.findall(r'<img\b', dom))


@pytest.fixture(scope='module')
def batch(tmp_path_factory):
    out = make_batch(tmp_path_factory.mktemp('batch') / 'out')
    page = write_class_report(out)
    return out, page


@pytest.mark.browser
def test_every_figure_loads_in_a_browser(batch, tmp_path):
    out, page = batch
    assert page == out / 'report' / 'index.html'
    assert sorted(p.name for p in page.parent.glob('*.png')) == FIGURES
    for png in page.parent.glob('*.png'):
        assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 5000
    text = page.read_text()
    assert not re.search(r"(src|href)=['\"](https?:|//)", text)  # nothing fetched
    dom = rendered_dom(page, tmp_path)
    loaded, total, images = figures_loaded(dom)
    assert images == 4 and total == 4 and loaded == 4, (loaded, total, images)


@pytest.mark.browser
def test_student_strings_are_escaped(batch, tmp_path):
    _, page = batch
    text = page.read_text()
    assert SCRIPT_ID not in text and 'x&lt;script&gt;alert(1)' in text
    assert '<img src=x' not in text and '&lt;img src=x onerror=alert(2)&gt;' in text
    assert 'garbled&lt;b&gt;' in text
    assert text.count('<script>') == 1  # the page's own script only
    dom = rendered_dom(page, tmp_path)
    assert 'x&lt;script&gt;alert(1)' in dom and len(re.findall(r'<script\b', dom)) == 1


def test_the_numbers_and_the_submissions_not_graded(batch):
    out, page = batch
    text = page.read_text()
    data = json.loads((out / 'batch.json').read_text())
    graded = [s for s in data['students'] if s['status'] in ('graded', 'skipped')
              and s['id'] != 'refused']
    percents = sorted(s['score'] for s in graded)
    mean = sum(percents) / len(percents)
    assert f"graded<b>{len(graded)}</b>" in text
    assert "could not be graded<b>5</b>" in text
    assert f"mean score<b>{mean:.1f}%</b>" in text
    failed = text[text.index('<h2>Could not be graded</h2>'):text.index('<h2>Slowest')]
    for sid, why in (('refused', 'not a readable zip file'), ('twice', 'two submissions'),
                     ('crashed', 'sandbox cannot run'), ('garbled&lt;b&gt;', 'not a zip file'),
                     ('absent', 'no submission')):
        assert re.search(rf"<td>{re.escape(sid)}</td><td>[\w ,]+</td>.*{why}", failed), sid
    assert 'student002' not in failed and SCRIPT_ID.replace('<', '&lt;') not in failed
    assert 'href="../submissions/x_script_alert_1_/results.json"' in text
    slowest = text[text.index('<h2>Slowest'):]
    assert slowest.index('<td>bad$\\frac$_name</td>') < slowest.index('<td>student0')


def test_the_report_is_deterministic(batch):
    out, page = batch
    before = {p.name: p.read_bytes() for p in page.parent.iterdir()}
    assert write_class_report(out) == page
    assert {p.name: p.read_bytes() for p in page.parent.iterdir()} == before


@pytest.mark.browser
def test_an_empty_batch_and_a_batch_with_nothing_graded(tmp_path):
    empty = make_batch(tmp_path / 'empty', graded=0, extras=False)
    page = write_class_report(empty)
    assert 'holds no submissions' in page.read_text()
    assert figures_loaded(rendered_dom(page, tmp_path)) == (0, 0, 0)

    none = make_batch(tmp_path / 'none', graded=0)
    page = write_class_report(none)
    text = page.read_text()
    assert 'None of the 5 submissions could be graded' in text
    assert 'scores.png' not in text and 'crashed' in text
    loaded, total, images = figures_loaded(rendered_dom(page, tmp_path))
    assert loaded == total == images == 1  # the timing chart: some failures took time

    with pytest.raises(ClassReportError, match='batch.json missing'):
        write_class_report(tmp_path / 'nowhere')


def test_four_hundred_students(tmp_path):
    """A big class renders whole (its speed is measured by the benchmarks, not here)."""
    out = make_batch(tmp_path / 'big', graded=400, seed=1)
    text = write_class_report(out).read_text()
    assert 'graded<b>400</b>' in text
    assert text.count('<tr><td>student') >= 400  # every student in the full table
