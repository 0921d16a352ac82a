"""The student release, unpacked and used the way a new student would.

Tiers: `slow` for the tests that set up a fresh environment, train or grade;
`tex` for the written templates' build. The README's set-up commands are run
verbatim (read by release.student_setup, as .ci/fresh --student reads them for
a debootstrapped Debian or Ubuntu).
"""
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder.authoring import release as release_module
from grading import SUBMITTED, load_results
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
        'hw1/README.md', 'hw1/GRADING.md', 'hw1/get_data.sh', 'hw1/collect_submission.sh'}
        for n in names), names
    assert 'hw1/GRADING.md' in names  # the notebook's introduction points to it
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


@pytest.mark.slow
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
    from autograder.catalogue import load_catalogue
    assert load_results(tmp_path / 'out')['score'] == load_catalogue().total


@pytest.mark.slow
@pytest.mark.tex
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


# --- the README's set-up, as a new student runs it --------------------------------

# Installing into the system's Python: refused on Debian 12 and Ubuntu 24.04 (PEP 668),
# or a way around a protection a student should not learn to use.
NOT_FOR_STUDENTS = ('sudo pip', 'pip install --user', '--break-system-packages',
                    'sudo python')


def student_package_libraries():
    """Distributions (lower case) of the third-party modules student_version/ imports."""
    import ast
    import sys
    from importlib import metadata
    owners = metadata.packages_distributions()
    ours = {p.stem for p in (KIT / 'student_version').rglob('*.py')} | {'models', 'optimizer'}
    names = set()
    for path in (KIT / 'student_version').rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level else []
            for module in filter(None, modules):
                top = module.split('.')[0]
                if top not in ours and top not in sys.stdlib_module_names and top in owners:
                    names.update(d.lower() for d in owners[top])
    return names - {'pytest'}  # the visible tests' own, installed for them


def test_student_readme_setup_makes_and_uses_a_venv():
    """The set-up's shape on a fresh Debian 12 / Ubuntu 24.04: python3-venv first,
    then a venv, pip upgraded inside it, every package the kit's student package
    depends on (pyproject.toml), the tests' and the notebook's, and the data."""
    packages, script = release_module.student_setup()
    assert packages == ['python3-venv']
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    assert lines[:3] == ['python3 -m venv .venv', '. .venv/bin/activate',
                         'python -m pip install -U pip'], lines
    installs = [line for line in lines[3:] if 'pip install' in line]
    assert len(installs) == 1 and installs[0].startswith('python -m pip install ')
    # Every library the student package imports, by its distribution's name (the
    # kit's dependencies also hold jaxtyping, which only the course's 2025 skeleton's
    # given code imports: the grader needs it, a student of the kit does not).
    names = student_package_libraries()
    assert names >= {'numpy', 'pyyaml', 'matplotlib', 'threadpoolctl'}, names
    assert names | {'pytest', 'jupyter'} == set(installs[0].split()[4:]), installs[0]
    readme = release_module.README.read_text()
    assert 'HW1_BLAS_THREADS' in readme and '--blas-threads' in readme
    assert lines[-1] == 'bash get_data.sh'
    readme = release_module.README.read_text()
    assert not any(bad in readme for bad in NOT_FOR_STUDENTS)
    for system in ('**macOS**', '**Windows**', 'wsl --install'):
        assert system in readme, system


def test_a_release_without_its_setup_is_refused():
    with pytest.raises(release_module.ReleaseError, match='no set-up commands'):
        release_module.student_setup('# Homework\n\nsudo apt-get install python3-venv\n')
    with pytest.raises(release_module.ReleaseError, match='apt-get install'):
        release_module.student_setup('# Homework\n\n```bash\npython3 -m venv .venv\n```\n')
    packages, script = release_module.student_setup(
        'first `sudo apt-get update && sudo apt-get install -y python3-venv git`:\n'
        '```bash\necho one\necho two\n```\n```bash\necho later\n```\n')
    assert packages == ['python3-venv', 'git'] and script == 'echo one\necho two\n'


def _system_environment(**extra):
    """The environment of a new terminal: no venv active, nothing of this kit's."""
    env = {k: v for k, v in os.environ.items()
           if k not in {'VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME', 'CONDA_PREFIX'}}
    venv_bin = os.path.dirname(sys.executable)
    env['PATH'] = os.pathsep.join(d for d in env.get('PATH', '').split(os.pathsep)
                                  if d and os.path.realpath(d) != os.path.realpath(venv_bin))
    env.update(extra)
    return env


@pytest.mark.slow
def test_a_new_student_sets_up_with_the_readme_commands_verbatim(release, tmp_path):
    """The README's set-up block, run as it stands (one bash script, stopping at
    the first failing line) in a fresh copy of the unpacked release, with the
    system's python3 and no venv active: it must leave a working environment.
    The MNIST download is replaced by its documented local source
    (MNIST_SOURCE), since this machine cannot reach the public mirrors."""
    zip_path, _ = release
    with zipfile.ZipFile(zip_path) as archive:  # a fresh copy: other tests fill the shared one
        archive.extractall(tmp_path)
    folder = tmp_path / 'hw1'
    _, script = release_module.student_setup((folder / 'README.md').read_text())
    source = SHARED if SHARED.is_dir() else KIT / 'data' / 'mnist'
    env = _system_environment(MNIST_SOURCE=str(source))
    assert shutil.which('python3', path=env['PATH']), "no system python3"
    setup = subprocess.run(['bash', '-e', '-o', 'pipefail', '-c', script], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=2400)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]

    python = folder / '.venv' / 'bin' / 'python'
    imports = subprocess.run([str(python), '-c', 'import numpy, yaml, matplotlib, tqdm, '
                              'threadpoolctl, pytest, jupyterlab, ipywidgets, nbformat'],
                             env=env, capture_output=True, text=True, timeout=300)
    assert imports.returncode == 0, imports.stderr
    lab = subprocess.run([str(folder / '.venv' / 'bin' / 'jupyter'), 'lab', '--version'],
                         env=env, capture_output=True, text=True, timeout=300)
    assert lab.returncode == 0 and lab.stdout.strip(), lab.stderr
    assert sorted(p.name for p in (folder / 'data' / 'mnist').glob('*.gz')) == sorted(
        ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz',
         'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'])
    # In a new terminal, activated as the README says: the visible tests run (and
    # fail on every TODO, with no module missing).
    tests = subprocess.run(['bash', '-c', '. ../.venv/bin/activate && python -m pytest -q'],
                           cwd=folder / 'student_version', env=env, capture_output=True,
                           text=True, timeout=900)
    assert tests.returncode == 1 and 'ModuleNotFoundError' not in tests.stdout, \
        tests.stdout[-3000:]
    assert tests.stdout.count('NotImplementedError') >= 20


def test_fresh_machine_runs_the_same_setup_the_tests_read():
    """.ci/fresh --student takes the README's commands from release.student_setup,
    the function the tests above read them with: one reader, no copy that drifts."""
    script = (KIT / '.ci' / 'fresh').read_text()
    assert 'from autograder.authoring.release import student_setup' in script
    assert "bash -e -o pipefail /work/student-setup.sh" in script
    shown = run(['bash', str(KIT / '.ci' / 'fresh'), '--help'])
    assert shown.returncode == 0 and '--student' in shown.stdout
