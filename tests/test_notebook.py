"""solutions/hw1.ipynb: it runs headless, and its nbgrader release and grading round trip.

Every notebook run here trains with HW1_EPOCHS=1. At autograding time every
student's kernel runs in the kit's sandbox (autograder/authoring/nbkernel.py):
a notebook that attacks the course can neither read the kit nor touch another
student's files.
"""
import copy
import csv
import html
import json
import re
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder import paths
from autograder.authoring import nbcourse
from autograder.authoring import notebook as nbtools
from grading import SUBMITTED
from helpers import SOLUTIONS, STUDENT, run

SOURCE = SOLUTIONS / paths.NOTEBOOK
# Cells whose outputs must hold a figure: both learning curves, both sweeps.
FIGURE_CELLS = ('softmax-curves', 'two-layer-curves', 'lr-plot', 'reg-plot')
# The notebook's points: its test cells only (GRADING.md). Its questions are
# answered and graded in the report (written/report.tex), not here.
AUTOGRADED_POINTS = {'test_data': 1, 'test_softmax': 1, 'test_two_layer': 1,
                     'test_lr_sweep': 2, 'test_reg_sweep': 2, 'test_tuned_config': 3}
NOTEBOOK_POINTS = 10
# The cells whose hidden checks the introduction describes: the sweeps' settings.
HIDDEN_TEST_CELLS = {'test_lr_sweep', 'test_reg_sweep'}
# The files a student submits (plain paths of submission_files.txt).
COPY_IGNORE = shutil.ignore_patterns('__pycache__', '.pytest_cache', '.benchmarks',
                                     '.ipynb_checkpoints', 'results', '*.pyc')


@pytest.fixture(scope='session')
def grader_env(mnist):
    """Environment of every notebook run here: MNIST, HW1_EPOCHS=1, one BLAS thread.

    One BLAS thread (the package's default): on a busy 2-core machine, two
    BLAS threads per kernel make an epoch ten times slower.
    """
    return {'MNIST_DIR': str(mnist), 'HW1_EPOCHS': '1', 'HW1_BLAS_THREADS': '1'}


# --- helpers ------------------------------------------------------------------


def nbgrader_meta(cell):
    return cell.metadata.get('nbgrader', {})


def solution_regions(text):
    """The lines of every `### BEGIN SOLUTION` ... `### END SOLUTION` region."""
    return re.findall(r'### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION', text, re.S)


def hidden_lines(nb):
    """Every non-blank line of the hidden test regions of a notebook."""
    lines = []
    for cell in nb.cells:
        for region in re.findall(r'### BEGIN HIDDEN TESTS\n(.*?)\n\s*### END HIDDEN TESTS',
                                 cell.source, re.S):
            lines += [line.strip() for line in region.splitlines() if line.strip()]
    return lines


def answered(released, source, overrides=None):
    """A submission: the released notebook with every solution cell filled in.

    Solution cells get the source notebook's code with the marker lines
    removed, or overrides[grade_id]; an override of None leaves the cell as
    released (unanswered).
    """
    overrides = overrides or {}
    by_id = {nbgrader_meta(c)['grade_id']: c for c in source.cells if nbgrader_meta(c)}
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get('solution'):
            continue
        grade_id = meta['grade_id']
        if grade_id in overrides:
            if overrides[grade_id] is not None:
                cell.source = textwrap.dedent(overrides[grade_id]).strip('\n')
            continue
        cell.source = '\n'.join(line for line in by_id[grade_id].source.splitlines()
                                if 'BEGIN SOLUTION' not in line and 'END SOLUTION' not in line)
    return nb


def html_text(path):
    """The visible text of an HTML file: tags dropped, entities decoded."""
    return html.unescape(re.sub(r'<[^>]+>', '', path.read_text()))


def nbgrader(args, course, env):
    return run([sys.executable, '-m', 'nbgrader', *args], cwd=course, env=env, timeout=900,
               check=True)


# --- 1. the source notebook runs ----------------------------------------------


@pytest.mark.slow
def test_source_notebook_runs_headless_and_draws_its_figures(tmp_path, grader_env,
                                                             monkeypatch):
    from nbclient import NotebookClient

    package = tmp_path / 'solutions'
    shutil.copytree(SOLUTIONS, package, ignore=COPY_IGNORE)
    for name, value in grader_env.items():
        monkeypatch.setenv(name, value)
    nb = nbformat.read(package / paths.NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name='python3',
                   resources={'metadata': {'path': str(package)}}).execute()

    cells = {cell.get('id'): cell for cell in nb.cells}
    for cell_id in FIGURE_CELLS:
        kinds = [set(out.get('data', {})) for out in cells[cell_id].outputs]
        figures = sum('image/png' in k for k in kinds)
        assert figures == 1, f"cell {cell_id}: {figures} figures, expected one ({kinds})"
    for name in ('softmax_curves.png', 'two_layer_curves.png', 'lr_sweep.png',
                 'reg_sweep.png'):
        assert (package / 'results' / name).read_bytes()[:4] == b'\x89PNG', name
    # Headless: no progress-bar widgets, no tqdm complaint about ipywidgets.
    outputs = [out for cell in nb.cells if cell.cell_type == 'code' for out in cell.outputs]
    assert not any('application/vnd.jupyter.widget-view+json' in out.get('data', {})
                   for out in outputs)
    assert not any('IProgress' in out.get('text', '') for out in outputs)
    assert 'widgets' not in nb.metadata
    # The run used HW1_EPOCHS and saved a valid tuned config.
    assert 'every run trains for 1 epoch(s)' in ''.join(
        out.get('text', '') for out in cells['setup'].outputs)
    from config import load_config
    assert load_config(package / 'configs' / 'config_exp.yaml')['Train']['learning_rate'] != 0.1
    # The sweep tables show what the report's tables ask for, and no test accuracy:
    # settings are chosen on the validation set.
    for cell_id in ('lr-plot', 'reg-plot'):
        tables = [out['data']['text/markdown'] for out in cells[cell_id].outputs
                  if 'text/markdown' in out.get('data', {})]
        assert len(tables) == 1, cell_id
        header = tables[0].splitlines()[0]
        assert 'final train loss' in header and 'final train acc' in header
        assert 'final val acc' in header and 'test' not in header.lower(), header
        assert len(tables[0].splitlines()) == 2 + (4 if cell_id == 'lr-plot' else 5)


@pytest.mark.slow
def test_progress_bars_are_widgets_when_someone_watches():
    """utils' tqdm.auto bars render as ipywidgets in a live front end (allow_stdin)."""
    from jupyter_client.manager import start_new_kernel

    code = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(SOLUTIONS)!r})
        import numpy as np
        import utils
        from models import SoftmaxRegression
        from optimizer import SGD
        X, y = np.zeros((8, 784), np.float32), np.zeros(8, np.int64)
        utils.train(1, [X] * 3, [y] * 3, SoftmaxRegression(), SGD(), debug=True)
        print('watched:', bool(getattr(get_ipython().kernel, '_allow_stdin', False)))
    ''')
    km, kc = start_new_kernel(kernel_name='python3')
    try:
        seen = {True: [], False: []}
        for allow_stdin in (True, False):
            reply = kc.execute_interactive(code, allow_stdin=allow_stdin, timeout=120,
                                           output_hook=seen[allow_stdin].append)
            assert reply['content']['status'] == 'ok', reply['content']
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    def texts(msgs):
        return ''.join(m['content'].get('text', '') for m in msgs
                       if m['msg_type'] == 'stream')

    def widgets(msgs):
        return [m for m in msgs if m['msg_type'] == 'display_data'
                and 'application/vnd.jupyter.widget-view+json' in m['content']['data']]

    assert widgets(seen[True]), "no progress-bar widget: is ipywidgets installed?"
    assert 'IProgress' not in texts(seen[True])
    # The notebook's watched() tells the two situations apart.
    assert 'watched: True' in texts(seen[True]) and 'watched: False' in texts(seen[False])


# --- 2. the nbgrader round trip ------------------------------------------------


@pytest.fixture(scope='module')
def course(tmp_path_factory, grader_env):
    """A course made by make_course, with hw1 released by nbgrader."""
    root = nbcourse.make_course(tmp_path_factory.mktemp('course') / 'course')
    nbgrader(['generate_assignment', nbtools.ASSIGNMENT, '--force'], root, grader_env)
    return root


def submit(course, student, files, notebook):
    folder = course / 'submitted' / student / nbtools.ASSIGNMENT
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    nbformat.write(notebook, folder / paths.NOTEBOOK)


@pytest.mark.slow
@pytest.mark.root
def test_nbgrader_round_trip(course, grader_env):
    assignment = nbtools.ASSIGNMENT
    source = nbformat.read(SOURCE, as_version=4)
    released_path = course / 'release' / assignment / paths.NOTEBOOK
    released = nbformat.read(released_path, as_version=4)

    # The release: the student package and a notebook without solutions or hidden tests.
    released_text = '\n'.join(cell.source for cell in released.cells)
    by_id = {nbgrader_meta(c)['grade_id']: c for c in released.cells if nbgrader_meta(c)}
    solution_cells = [c for c in source.cells if nbgrader_meta(c).get('solution')]
    assert len(solution_cells) == 4  # the sweeps, plot_sweep and the tuning
    for cell in solution_cells:
        shipped = by_id[nbgrader_meta(cell)['grade_id']].source
        stub = nbtools.CODE_STUB if cell.cell_type == 'code' else nbtools.TEXT_STUB
        assert stub.splitlines()[0] in shipped
        for region in solution_regions(cell.source) or [cell.source]:
            for line in region.splitlines():
                assert not line.strip() or line.strip() not in shipped, \
                    f"{nbgrader_meta(cell)['grade_id']}: solution line released: {line}"
    assert 'Marking guide' not in released_text
    hidden = hidden_lines(source)
    assert hidden and not any(line in released_text for line in hidden)
    assert 'HIDDEN TESTS' not in released_text and 'autograder' not in released_text
    assert all(not cell.get('outputs') for cell in released.cells)
    for path in STUDENT.rglob('*.py'):
        rel = path.relative_to(STUDENT)
        if '__pycache__' not in rel.parts:
            assert (course / 'release' / assignment / rel).read_bytes() == path.read_bytes()

    # Two submissions of the files students submit: alice is complete, bob has
    # three mistakes (a bug in his package, which only `autograder grade` scores,
    # and two in his notebook).
    package = {Path(rel): (SOLUTIONS / rel).read_bytes() for rel in SUBMITTED}
    submit(course, 'alice', package, answered(released, source))
    buggy = dict(package)
    softmax_file = Path('models/softmax_regression.py')
    text = package[softmax_file].decode()
    assert '        dA *= self.ReLU_dev(Z)\n' in text
    buggy[softmax_file] = text.replace('        dA *= self.ReLU_dev(Z)\n', '').encode()
    bob = answered(released, source, {
        # one learning rate missing
        'lr_sweep': '''
            LEARNING_RATES = [1, 0.1, 0.05]
            lr_runs = {}
            for lr in LEARNING_RATES:
                lr_runs[lr] = run_experiment(settings(two_layer_config, learning_rate=lr),
                                             data=data, epochs=EPOCHS)
            lr_results = {lr: run.valid_acc[-1] for lr, run in lr_runs.items()}
        ''',
        # not tuned: the defaults
        'tuning': 'best_config = settings(two_layer_config)',
    })
    submit(course, 'bob', buggy, bob)

    nbgrader(['autograde', assignment, '--force'], course, grader_env)
    nbgrader(['generate_feedback', assignment, '--force'], course, grader_env)
    nbgrader(['export', '--to', 'grades.csv'], course, grader_env)

    from nbgrader.api import Gradebook
    with Gradebook(f'sqlite:///{course / "gradebook.db"}', nbcourse.COURSE_ID) as gb:
        cell_scores = {student: {g.name: g.score for g in gb.find_submission_notebook(
            'hw1', assignment, student).grades if g.name in AUTOGRADED_POINTS}
            for student in ('alice', 'bob')}
    assert cell_scores['alice'] == AUTOGRADED_POINTS, cell_scores['alice']
    assert cell_scores['bob'] == {**AUTOGRADED_POINTS, 'test_lr_sweep': 0,
                                  'test_tuned_config': 0}, cell_scores['bob']

    with open(course / 'grades.csv', newline='') as f:
        rows = {row['student_id']: row for row in csv.DictReader(f)}
    total = full = sum(AUTOGRADED_POINTS.values())
    assert total == NOTEBOOK_POINTS
    lost = AUTOGRADED_POINTS['test_lr_sweep'] + AUTOGRADED_POINTS['test_tuned_config']
    assert float(rows['alice']['score']) == full and float(rows['alice']['max_score']) == total
    assert float(rows['bob']['score']) == full - lost and float(rows['bob']['max_score']) == total

    for student in ('alice', 'bob'):
        feedback = html_text(course / 'feedback' / student / assignment / 'hw1.html')
        leaked = [line for line in hidden if line in feedback]
        assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked}"
        assert 'assert set(lr_results) == {1, 0.1, 0.05, 0.01}' in feedback
    feedback = html_text(course / 'feedback' / 'bob' / assignment / 'hw1.html')
    assert 'is below the bar' in feedback


# --- 3. the student notebook ---------------------------------------------------


def test_student_notebook_has_no_marking_text():
    """No run of 8 words of any solution or marking-guide cell of the source
    notebook appears anywhere in the notebook students get, and the same
    runs are found in the source (so the check can fail)."""
    from test_written import WINDOW, normalize_words

    source = nbformat.read(SOURCE, as_version=4)
    student = nbformat.read(STUDENT / paths.NOTEBOOK, as_version=4)
    released = ' ' + ' '.join(normalize_words('\n'.join(c.source for c in student.cells))) + ' '
    original = ' ' + ' '.join(normalize_words('\n'.join(c.source for c in source.cells))) + ' '
    windows = []
    for cell in source.cells:
        if not nbgrader_meta(cell).get('solution') and 'HIDDEN TESTS' not in cell.source:
            continue
        regions = (solution_regions(cell.source) if cell.cell_type == 'code' else []) \
            or re.findall(r'### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS', cell.source,
                          re.S) or [cell.source]
        for region in regions:
            words = normalize_words(region)
            windows += [' '.join(words[i:i + WINDOW]) for i in range(len(words) - WINDOW + 1)]
    assert len(windows) > 100, "too few solution sentences extracted from the source notebook"
    assert all(f' {w} ' in original for w in windows)
    leaks = [w for w in windows if f' {w} ' in released]
    assert not leaks, f"solution or marking text in student_version/hw1.ipynb: {leaks[:5]}"
    assert ' marking guide ' not in released


@pytest.mark.slow
def test_render_student_notebook_is_what_nbgrader_releases(course):
    rendered = nbtools.render_student_notebook(SOURCE)
    assert rendered == nbtools.render_student_notebook(SOURCE)
    released = (course / 'release' / nbtools.ASSIGNMENT / paths.NOTEBOOK).read_bytes()
    ours, theirs = (nbformat.reads(data.decode(), as_version=4) for data in (rendered, released))
    assert [c.source for c in ours.cells] == [c.source for c in theirs.cells]
    assert rendered == released


def test_make_course_refreshes_its_course_and_refuses_other_folders(tmp_path):
    root = nbcourse.make_course(tmp_path / 'course')
    assert (root / 'source' / 'hw1' / 'hw1.ipynb').read_bytes() == SOURCE.read_bytes()
    assert ((root / 'source' / 'hw1' / 'models' / 'two_layer_nn.py').read_bytes()
            == (STUDENT / 'models' / 'two_layer_nn.py').read_bytes())
    config = (root / 'nbgrader_config.py').read_text()
    assert f"c.CourseDirectory.root = {str(root)!r}" in config
    assert "'models/two_layer_nn.py'" in config and "'configs/config_exp.yaml'" in config
    assert "'train.py'" not in config  # no student work: overwritten at autograding
    # Refresh: stale source files go, the course's other folders stay.
    (root / 'source' / 'hw1' / 'stale.py').write_text('x = 1\n')
    (root / 'submitted').mkdir()
    assert nbcourse.make_course(root) == root
    assert not (root / 'source' / 'hw1' / 'stale.py').exists()
    assert (root / 'submitted').is_dir()
    # A folder that is not ours.
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine\n')
    with pytest.raises(nbtools.NotebookError, match='not empty'):
        nbcourse.make_course(other)
    assert sorted(p.name for p in other.iterdir()) == ['notes.txt']


ATTACK = r'''
import json, os, pathlib, socket, sys
found = {}
for path in SECRETS:
    try:
        found[path] = open(path, 'rb').read(30).decode('latin-1')
    except OSError as err:
        found[path] = 'BLOCKED'
try:
    pathlib.Path(VICTIM).write_text('corrupted by mallory')
    found['victim'] = 'WRITTEN'
except OSError:
    found['victim'] = 'BLOCKED'
try:
    socket.create_connection(('1.1.1.1', 80), timeout=2)
    found['net'] = 'OPEN'
except OSError:
    found['net'] = 'BLOCKED'
found['uid'] = os.getuid()
print('ATTACK ' + json.dumps(found))
'''


@pytest.mark.slow
@pytest.mark.root
def test_a_hostile_notebook_reads_and_changes_nothing_outside_its_own_submission(course,
                                                                                  grader_env):
    """Mallory's notebook, run by `nbgrader autograde` as root: sandboxed.

    It tries to read the kit's hidden tests, the rubric, the reference and the
    course's other folders, to overwrite another student's submission, and to
    reach the network. Every attempt fails; the victim's files and grades stay
    as they were.
    """
    assignment = nbtools.ASSIGNMENT
    released = nbformat.read(course / 'release' / assignment / paths.NOTEBOOK, as_version=4)
    package = {Path(rel): (SOLUTIONS / rel).read_bytes() for rel in SUBMITTED}
    victim = course / 'submitted' / 'victor' / assignment / 'utils.py'
    secrets = [str(paths.PACKAGE / 'catalogue' / 'functions.py'), str(paths.RUBRIC),
               str(SOLUTIONS / 'utils.py'), str(course / 'gradebook.db'),
               str(course / 'source' / assignment / paths.NOTEBOOK)]
    # Both notebooks as released (their exercises unanswered, so they run in seconds);
    # mallory's has one more cell, right after the setup cell.
    mallory = copy.deepcopy(released)
    setup = next(c for c in mallory.cells if c.get('id') == 'setup')
    attack = nbformat.v4.new_code_cell(
        f"SECRETS = {secrets!r}\nVICTIM = {str(victim)!r}\n" + ATTACK)
    mallory.cells.insert(mallory.cells.index(setup) + 1, attack)
    submit(course, 'victor', package, copy.deepcopy(released))
    submit(course, 'mallory', package, mallory)
    before = victim.read_bytes()
    nbgrader(['autograde', assignment, '--force', '--student', 'victor'], course, grader_env)
    from nbgrader.api import Gradebook

    def victor_grades():
        with Gradebook(f'sqlite:///{course / "gradebook.db"}', nbcourse.COURSE_ID) as gb:
            return {g.name: g.score for g in gb.find_submission_notebook(
                'hw1', assignment, 'victor').grades}

    graded_before = victor_grades()
    nbgrader(['autograde', assignment, '--force', '--student', 'mallory'], course, grader_env)
    graded = nbformat.read(course / 'autograded' / 'mallory' / assignment / paths.NOTEBOOK,
                           as_version=4)
    printed = [line for cell in graded.cells if cell.cell_type == 'code'
               for out in cell.get('outputs', []) for line in out.get('text', '').splitlines()
               if line.startswith('ATTACK ')]
    assert len(printed) == 1, printed
    found = json.loads(printed[0][len('ATTACK '):])
    assert all(found[path] == 'BLOCKED' for path in secrets), found
    assert found['victim'] == 'BLOCKED' and found['net'] == 'BLOCKED', found
    assert found['uid'] != 0
    assert victim.read_bytes() == before
    autograded = course / 'autograded' / 'victor' / assignment / 'utils.py'
    assert autograded.read_bytes() == before
    assert victor_grades() == graded_before


# --- 4. what the notebook says about its grading --------------------------------


def test_points_and_hidden_checks_are_what_the_introduction_says():
    """The intro promises 10 points from test cells, hidden checks only on the
    sweeps' settings, no answer cells, and the package graded elsewhere."""
    source = nbformat.read(SOURCE, as_version=4)
    graded = {nbgrader_meta(c)['grade_id']: nbgrader_meta(c).get('points')
              for c in source.cells if nbgrader_meta(c).get('grade')}
    assert graded == AUTOGRADED_POINTS and sum(graded.values()) == NOTEBOOK_POINTS
    assert not any(c.cell_type == 'markdown' and nbgrader_meta(c).get('solution')
                   for c in source.cells), "answer cells belong in the report"
    hidden = {c.get('id') for c in source.cells if 'BEGIN HIDDEN TESTS' in c.source}
    assert hidden == HIDDEN_TEST_CELLS
    intro = ' '.join(next(c for c in source.cells if c.get('id') == 'intro').source.split())
    assert f'({NOTEBOOK_POINTS} points of the homework' in intro
    assert 'settings asked for' in intro and 'graded separately' in intro
    assert 'no answer cells' in intro


def test_every_question_names_its_section_of_the_report():
    source = nbformat.read(SOURCE, as_version=4)
    report = (SOLUTIONS.parent / 'written' / 'report.tex').read_text()
    sections = re.findall(r'^\\reportsection\{', report, re.M)
    asked = []
    for cell in source.cells:
        if cell.get('id', '').startswith('question-'):
            found = re.findall(r'For the report, section (\d)', cell.source)
            assert len(found) == 1, cell.get('id')
            asked.append(int(found[0]))
    assert asked == list(range(1, len(sections) + 1)), (asked, len(sections))
