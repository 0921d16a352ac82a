"""The student release, unpacked and used the way a new student would."""
import shutil
import subprocess
import sys
import zipfile

import pytest

from grading import SUBMITTED, collect, load_results
from helpers import KIT, SOLUTIONS, run, solution_lines
from test_written import normalize_words, solution_windows

pytestmark = pytest.mark.usefixtures('mnist')
SHARED = KIT.parent / 'shared' / 'data' / 'mnist'


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    """The release zip, unpacked into an empty folder: (zip path, hw1 folder)."""
    tmp = tmp_path_factory.mktemp('release')
    result = run([sys.executable, '-m', 'autograder', 'release', '--out', str(tmp / 'hw1.zip')])
    assert result.returncode == 0, result.stderr
    (tmp / 'student').mkdir()
    with zipfile.ZipFile(tmp / 'hw1.zip') as archive:
        archive.extractall(tmp / 'student')
    folder = tmp / 'student' / 'hw1'
    for script in ('get_data.sh', 'collect_submission.sh'):
        (folder / script).chmod(0o755)
    return tmp / 'hw1.zip', folder


def test_nothing_of_the_instructors_side_is_released(release):
    zip_path, folder = release
    names = zipfile.ZipFile(zip_path).namelist()
    assert all(n.startswith(('hw1/student_version/', 'hw1/written/')) or n in {
        'hw1/README.md', 'hw1/get_data.sh', 'hw1/collect_submission.sh'} for n in names), names
    assert 'hw1/student_version/hw1.ipynb' in names
    texts = {n: zipfile.ZipFile(zip_path).read(n).decode('utf-8', 'replace') for n in names}
    for name, text in texts.items():
        if name == 'hw1/written/hwkit.sty':
            continue  # defines the switch and environments; holds no answer
        for marker in ('BEGIN SOLUTION', 'BEGIN HIDDEN TESTS', 'instructoronly',
                       'ifsolutions', 'SEED = 0x5EED', 'min_accuracy'):
            assert marker not in text, f"{name}: {marker}"
    for rel, line in solution_lines():
        code = {c.strip() for c in texts[f'hw1/student_version/{rel.as_posix()}'].splitlines()
                if not c.strip().startswith('#')}
        assert line not in code, f"{rel}: {line!r} released"
    for doc in ('theory', 'review', 'report'):
        template = ' '.join(normalize_words(texts[f'hw1/written/{doc}.tex']))
        windows = solution_windows((KIT / 'written' / f'{doc}.tex').read_text())
        assert windows, doc
        for segment in windows:
            for window in segment:
                assert window not in template, f"{doc}.tex template: {window!r}"
    assert zip_path.read_bytes() == _rebuild(zip_path.parent / 'again.zip')


def _rebuild(path):
    assert run([sys.executable, '-m', 'autograder', 'release', '--out', str(path), '-q']).returncode == 0
    return path.read_bytes()


def test_a_new_student_fetches_tests_fills_submits_and_scores_full_marks(release, tmp_path):
    _, folder = release
    source = SHARED if SHARED.is_dir() else KIT / 'data' / 'mnist'
    fetched = run(['./get_data.sh', '--source', str(source)], cwd=folder)
    assert fetched.returncode == 0, fetched.stderr
    package = folder / 'student_version'

    before = run([sys.executable, '-m', 'pytest', '-q'], cwd=package, timeout=900)
    assert before.returncode == 1 and 'ModuleNotFoundError' not in before.stdout
    assert before.stdout.count('NotImplementedError') >= 20, before.stdout[-2000:]

    for rel in SUBMITTED:
        shutil.copy(SOLUTIONS / rel, package / rel)
    after = run([sys.executable, '-m', 'pytest', '-q'], cwd=package, timeout=900)
    assert after.returncode == 0, after.stdout[-3000:]
    unittest = run([sys.executable, '-m', 'unittest', 'discover', 'tests'], cwd=package,
                   timeout=900)
    assert unittest.returncode == 0, unittest.stderr[-3000:]

    collected = subprocess.run(['../collect_submission.sh'], cwd=package, capture_output=True,
                               text=True, timeout=120)
    assert collected.returncode == 0 and 'warning' not in collected.stderr, collected.stderr
    graded = run([sys.executable, '-m', 'autograder', 'grade', str(package / 'submission.zip'),
                  '--out', str(tmp_path / 'out'), '-q'], timeout=900)
    assert graded.returncode == 0, graded.stderr
    assert load_results(tmp_path / 'out')['score'] == 100


@pytest.mark.parametrize('doc', ['theory', 'review', 'report'])
def test_written_templates_compile(release, tmp_path, doc):
    _, folder = release
    written = tmp_path / 'written'
    shutil.copytree(folder / 'written', written)
    if shutil.which('latexmk') is None:
        pytest.fail("latexmk missing: apt-get install latexmk texlive-latex-extra lmodern")
    built = run(['latexmk', '-pdf', '-interaction=nonstopmode', '-halt-on-error', f'{doc}.tex'],
                cwd=written, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:]
    assert (written / f'{doc}.pdf').is_file()
