"""Red team, part 3: the nbgrader route, the Docker-default fallback, the leftover sweep, late work.

Each case is an attack a student can mount with what they control (their
notebook's cells, their package's code, the files of their submission),
written the way they would write it, and the outcome the kit must have:

- nbgrader: links, FIFOs and hard links that the sandboxed kernel leaves in
  its notebook folder are never followed by the instructor's nbgrader steps
  (autograde's write of the notebook and chmod, generate_feedback's copy);
  the feedback holds only what nbgrader generated; the autograded folders of
  a course kept under /tmp survive the sandbox's clean-up;
- the fallback (no namespaces, no cgroups): a run cannot read a neighbour's
  package, cannot fill the disk under its neighbour, and pays for the CPU of
  the processes it double-forks;
- late work: a submission_metadata.json inside a submission is the student's
  file, never the platform's record (see also test_batch.py).
"""
import copy
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from helpers import KIT, SOLUTIONS, run

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the attacks need a root grader")


# --- the nbgrader route ----------------------------------------------------------------

# Run in mallory's sandboxed kernel: every link points at something only the
# instructor may read or write; nbgrader's later steps run as the instructor.
PLANT = r'''
import json, os
for name, target in json.loads(TARGETS).items():
    try:
        os.remove(name)
    except FileNotFoundError:
        pass
    os.symlink(target, name)
os.mkfifo('pipe.txt')
os.link('utils.py', 'utils_again.py')
print('planted', sorted(os.listdir('.')))
'''


def _nbgrader(args, course, env):
    return run([sys.executable, '-m', 'nbgrader', *args], cwd=course, env=env, timeout=900)


@pytest.fixture(scope='module')
def open_course():
    """A course made by make_course and released, kept under /tmp where any user may pass.

    The leftover sweep searches the shared temp folders wherever others may
    enter, so a course there is within its reach.
    """
    from autograder.authoring import nbcourse
    from autograder.authoring.notebook import ASSIGNMENT

    top = Path(tempfile.mkdtemp(prefix='redteam-course-', dir='/tmp'))
    os.chmod(top, 0o755)
    env = {'MNIST_DIR': str(KIT / 'data' / 'mnist'), 'HW1_EPOCHS': '1',
           'HW1_BLAS_THREADS': '1'}
    try:
        root = nbcourse.make_course(top / 'course')
        released = _nbgrader(['generate_assignment', ASSIGNMENT, '--force'], root, env)
        assert released.returncode == 0, released.stderr[-3000:]
        yield root, top, env
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.root
@as_root
def test_links_left_by_the_kernel_reach_nothing_of_the_instructor(open_course, mnist):
    import nbformat

    from autograder import paths
    from autograder.authoring.notebook import ASSIGNMENT
    from grading import SUBMITTED

    course, top, env = open_course
    outside = top / 'outside.txt'
    outside.write_text('keep')
    root_only = top / 'root-only.txt'
    root_only.write_text('ROOT-ONLY-MARKER')
    os.chmod(root_only, 0o600)
    targets = {'hw1.ipynb': str(outside), 'root_only.txt': str(root_only),
               'source.txt': str(course / 'source' / ASSIGNMENT / paths.NOTEBOOK),
               'gradebook.txt': str(course / 'gradebook.db'),
               'config.txt': str(course / 'nbgrader_config.py')}
    released = nbformat.read(course / 'release' / ASSIGNMENT / paths.NOTEBOOK, as_version=4)
    mallory = copy.deepcopy(released)
    setup = next(c for c in mallory.cells if c.get('id') == 'setup')
    mallory.cells.insert(mallory.cells.index(setup) + 1, nbformat.v4.new_code_cell(
        f"TARGETS = {json.dumps(targets)!r}\n" + PLANT))
    folder = course / 'submitted' / 'mallory' / ASSIGNMENT
    for rel in SUBMITTED:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SOLUTIONS / rel, folder / rel)
    nbformat.write(mallory, folder / paths.NOTEBOOK)

    graded = _nbgrader(['autograde', ASSIGNMENT, '--force', '--student', 'mallory'], course, env)
    feedback = _nbgrader(['generate_feedback', ASSIGNMENT, '--force', '--student', 'mallory'],
                         course, env)

    # Nothing outside the course changed, nothing root-only was opened up.
    assert outside.read_text() == 'keep'
    assert stat.S_IMODE(root_only.stat().st_mode) == 0o600
    # The kernel ran and planted its links (its output says so) ...
    assert graded.returncode == 0, graded.stderr[-3000:]
    notebook = nbformat.read(course / 'autograded' / 'mallory' / ASSIGNMENT / paths.NOTEBOOK,
                             as_version=4)
    outputs = ''.join(o.get('text', '') for c in notebook.cells if c.cell_type == 'code'
                      for o in c.get('outputs', []))
    assert "planted [" in outputs and "'root_only.txt'" in outputs, outputs[:2000]
    # ... and none of them is in the autograded folder, which kept its package
    # (the sandbox's clean-up of its uid's files left the lent folder alone).
    autograded = course / 'autograded' / 'mallory' / ASSIGNMENT
    found = {p.relative_to(autograded).as_posix(): p for p in autograded.rglob('*')}
    assert not [name for name, p in found.items() if p.is_symlink()], sorted(found)
    assert not set(targets) - {'hw1.ipynb'} & set(found), sorted(found)
    assert 'utils.py' in found and 'pipe.txt' not in found and 'utils_again.py' not in found
    assert all(p.lstat().st_uid == os.geteuid() for p in found.values())
    # The feedback is nbgrader's HTML page, and nothing else.
    assert feedback.returncode == 0, feedback.stderr[-3000:]
    given = course / 'feedback' / 'mallory' / ASSIGNMENT
    assert sorted(p.name for p in given.rglob('*')) == ['hw1.html']
    page = (given / 'hw1.html')
    assert not page.is_symlink() and page.stat().st_nlink == 1
    assert 'ROOT-ONLY-MARKER' not in page.read_text()


@pytest.mark.slow
@pytest.mark.root
@as_root
def test_a_linked_submitted_folder_is_refused_before_any_kernel_runs(open_course, mnist):
    """nbgrader copies submitted/ with links followed; a link there is refused, and
    what it pointed to reaches neither the autograded folder nor the feedback."""
    import nbformat

    from autograder import paths
    from autograder.authoring.notebook import ASSIGNMENT

    course, top, env = open_course
    secret = top / 'secret.txt'
    secret.write_text('SECRET-MARKER')
    os.chmod(secret, 0o600)
    folder = course / 'submitted' / 'linker' / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nbformat.read(course / 'release' / ASSIGNMENT / paths.NOTEBOOK,
                                 as_version=4), folder / paths.NOTEBOOK)
    (folder / 'notes.txt').symlink_to(secret)
    graded = _nbgrader(['autograde', ASSIGNMENT, '--force', '--student', 'linker'], course, env)
    assert graded.returncode != 0
    assert 'holds links or special files (notes.txt)' in graded.stderr, graded.stderr[-3000:]
    reached = [p for p in (course / 'autograded' / 'linker').rglob('*') if p.is_file()]
    assert not any(b'SECRET-MARKER' in p.read_bytes() for p in reached), reached
    assert not (course / 'feedback' / 'linker').exists()


def test_the_kernel_gets_a_copy_without_links_special_files_or_hard_links(tmp_path):
    from autograder.authoring import nbfolders
    source = tmp_path / 'autograded'
    (source / 'models').mkdir(parents=True)
    (source / 'models' / 'net.py').write_text('x = 1\n')
    (source / 'run.sh').write_text('#!/bin/sh\n')
    os.chmod(source / 'run.sh', 0o755)
    (source / 'link').symlink_to('/etc/hostname')
    (source / 'folder-link').symlink_to(source / 'models')
    (source / 'twice').write_text('y')
    os.link(source / 'twice', source / 'again')
    os.mkfifo(source / 'pipe')
    uid = os.geteuid()
    left_out = nbfolders.copy_for_kernel(source, tmp_path / 'copy', uid)
    copied = sorted(p.relative_to(tmp_path / 'copy').as_posix()
                    for p in (tmp_path / 'copy').rglob('*'))
    assert copied == ['models', 'models/net.py', 'run.sh']
    assert sorted(left_out) == ['again', 'folder-link', 'link', 'pipe', 'twice']
    assert (tmp_path / 'copy' / 'run.sh').stat().st_mode & 0o777 == 0o755
    with pytest.raises(nbfolders.FolderError, match='more than 1 files'):
        nbfolders.copy_for_kernel(source, tmp_path / 'small', uid, max_files=1)


def test_feedback_keeps_only_the_pages_nbgrader_wrote(tmp_path):
    from autograder.authoring import nbfolders
    course = tmp_path / 'course'
    graded = course / 'autograded' / 'eve' / 'hw1'
    feedback = course / 'feedback' / 'eve' / 'hw1'
    graded.mkdir(parents=True)
    (feedback / 'sub').mkdir(parents=True)
    (feedback / 'hw1.html').write_text('<html>')
    (feedback / 'utils.py').write_text('copied')
    (feedback / 'sub' / 'x').write_text('copied')
    (feedback / 'gradebook.db').symlink_to(course / 'gradebook.db')
    nbfolders.feedback_hook(assignment='hw1', student='*', notebooks=[str(graded / 'hw1.ipynb')])
    assert sorted(p.name for p in feedback.iterdir()) == ['hw1.html']
    # A page nbgrader wrote that is now a link goes too.
    (feedback / 'hw1.html').unlink()
    (feedback / 'hw1.html').symlink_to('/etc/hostname')
    nbfolders.feedback_hook(notebooks=[str(graded / 'hw1.ipynb')])
    assert list(feedback.iterdir()) == []


# --- the leftover sweep ------------------------------------------------------------------


def _as_uid(uid, action):
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            action()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


@pytest.mark.root
@as_root
def test_the_sweep_removes_what_the_run_made_never_what_it_was_lent():
    from autograder.grading.sandbox import leftovers
    uid = 63891
    top = Path(tempfile.mkdtemp(prefix='lent-', dir='/tmp'))
    os.chmod(top, 0o755)  # others may pass: within the sweep's reach
    try:
        lent = top / 'course' / 'autograded' / 'alice'
        lent.mkdir(parents=True)
        (lent / 'hw1.ipynb').write_text('{}')
        for path in (lent, lent / 'hw1.ipynb'):
            os.chown(path, uid, uid)
        before = leftovers.inventory(uid, roots=[str(top)])

        def run():
            (lent / 'results.png').write_text('made by the run')
            (top / 'course' / 'autograded' / 'stash').mkdir()
        os.chmod(top / 'course' / 'autograded', 0o777)
        _as_uid(uid, run)
        removed = leftovers.remove_files_of(uid, roots=[str(top)], keep=before)
        assert removed == 1
        assert not (top / 'course' / 'autograded' / 'stash').exists()
        assert (lent / 'hw1.ipynb').read_text() == '{}'  # the lent folder is whole
        assert (lent / 'results.png').exists()  # inside a lent folder: the lender's to handle
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.root
@as_root
def test_a_uid_that_owns_files_already_is_not_claimed_and_they_stay():
    from autograder.grading.sandbox import leftovers, uids
    uid = 63895
    top = Path(tempfile.mkdtemp(prefix='owned-', dir='/tmp'))
    os.chmod(top, 0o755)
    try:
        mine = top / 'somebody-elses'
        mine.write_text('keep')
        os.chown(mine, uid, uid)
        claim = uids.claim(slot=95, base=63800,
                           busy=lambda u: leftovers.owns_anything(u, roots=[str(top)]))
        try:
            assert claim.uid != uid
        finally:
            claim.close()
        assert mine.read_text() == 'keep'
    finally:
        shutil.rmtree(top, ignore_errors=True)


# --- the Docker-default fallback (no namespaces, no writable cgroups) ----------------------


@pytest.fixture(scope='module')
def open_python():
    from test_fallback import build_open_python
    with build_open_python() as python:
        yield python


def _uid_processes(first, count=20):
    from autograder.grading.sandbox import uids
    return {uid: uids.processes_of(uid) for uid in range(first, first + count)
            if uids.processes_of(uid)}


def _owned_in_shared_folders(first, count=20):
    from autograder.grading.sandbox import leftovers
    return [uid for uid in range(first, first + count) if leftovers.owns_anything(uid)]


# A neighbour's package: its path is in the command line of its probe (world-readable
# in /proc without a PID namespace).
SNOOP = r'''
import glob, os, time
own = open('/proc/self/cmdline', 'rb').read().split(b'\0')
seen, read, denied = set(), [], []
end = time.time() + 25
while time.time() < end and not (read or 'PermissionError' in denied):
    for name in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            words = open(name, 'rb').read().split(b'\0')
        except OSError:
            continue
        for word in words:
            if word.endswith(b'/pkg') and word not in own and word not in seen:
                seen.add(word)
                try:
                    read.append(open(word + b'/utils.py', 'rb').read(40))
                except OSError as err:
                    denied.append(type(err).__name__)
    time.sleep(0.2)
raise RuntimeError(f"SNOOP seen={len(seen)} read={read} denied={denied}")
'''


@pytest.mark.slow
@pytest.mark.root
@as_root
def test_without_namespaces_a_run_cannot_read_its_neighbours_package(open_python, tmp_path,
                                                                     mnist):
    from test_fallback import run_like_docker

    from grading import make_submission
    folder = tmp_path / 'class'
    make_submission(folder / 'victim', attacks={
        'models/_base_network.py': [('sigmoid', 'import time; time.sleep(25)')]})
    make_submission(folder / 'snoop', attacks={'models/_base_network.py': [('sigmoid', SNOOP)]})
    out = tmp_path / 'out'
    result, _ = run_like_docker(open_python, 'batch', folder, '--out', out, '-j', '2',
                                '--only', 'activations.sigmoid', '-q',
                                env={'AUTOGRADER_SANDBOX_UID': '63720'})
    assert result.returncode == 0, result.stderr[-3000:]
    snoop = json.loads((out / 'submissions' / 'snoop' / 'results.json').read_text())
    output = snoop['tests'][0]['output']
    # It found the victim's package path (other graders on the host may show theirs,
    # inside their own private roots: not found here) and could not read it.
    assert 'read=[]' in output and "'PermissionError'" in output, output
    victim = json.loads((out / 'submissions' / 'victim' / 'results.json').read_text())
    assert victim['tests'][0]['status'] == 'passed', victim['tests'][0]


FILL = r'''
import os
kept, i = [], 0
while True:
    for folder in ('/tmp', '/dev/shm', '/var/tmp'):
        i += 1
        handle = open(f'{folder}/fill-{os.getpid()}-{i}', 'wb')
        try:
            for _ in range(64):
                handle.write(b'\1' * (1 << 20))
            handle.flush()
        except OSError:
            pass
        if i % 2:
            os.unlink(handle.name)
            kept.append(handle)  # deleted, still taking space while open
'''


@pytest.mark.slow
@pytest.mark.root
@as_root
def test_without_namespaces_a_run_that_fills_the_disk_is_stopped_and_cleaned(open_python,
                                                                            tmp_path, mnist):
    from test_fallback import grade_like_docker

    from autograder.grading.sandbox import Limits
    from grading import make_submission
    folder = make_submission(tmp_path / 'pkg', attacks={
        'models/_base_network.py': [('sigmoid', FILL)]})
    out = tmp_path / 'out'
    result, _ = grade_like_docker(open_python, folder, out, '--only', 'activations.sigmoid',
                                  '--only', 'activations.relu')
    assert result.returncode == 0, result.stderr[-3000:]
    tests = {t['name'].split(':')[0]: t for t in
             json.loads((out / 'results.json').read_text())['tests']}
    sigmoid = next(t for n, t in tests.items() if n.startswith('activations.sigmoid'))
    relu = next(t for n, t in tests.items() if n.startswith('activations.relu'))
    assert 'held more on disk than allowed' in sigmoid['output'], sigmoid
    held = int(sigmoid['output'].split('held more on disk than allowed (')[1].split(' MiB')[0])
    # Stopped soon after its allowance (held 331-407 MiB in runs of this writer alone).
    assert Limits().disk_bytes >> 20 < held < (Limits().disk_bytes >> 20) + 512, held
    assert relu['status'] == 'passed', relu
    assert not _owned_in_shared_folders(63700), "files of the run were left behind"
    assert not [p for d in ('/tmp', '/dev/shm', '/var/tmp') for p in os.listdir(d)
                if p.startswith('fill-')]


SPIN = r'''
import os, time
if os.fork() == 0:
    if os.fork() == 0:
        os.setsid()  # a new session: out of the run's process group, too
        while True:
            pass
    os._exit(0)
time.sleep(25)
'''


@pytest.mark.slow
@pytest.mark.root
@as_root
def test_without_namespaces_a_double_forked_spinner_is_counted_and_killed(open_python,
                                                                          tmp_path, mnist):
    from test_fallback import grade_like_docker

    from grading import make_submission, quick_rubric
    folder = make_submission(tmp_path / 'pkg', attacks={
        'models/_base_network.py': [('sigmoid', SPIN)]})
    out = tmp_path / 'out'
    rubric = quick_rubric(tmp_path, cpu=4)
    result, _ = grade_like_docker(open_python, folder, out, '--only', 'activations.sigmoid',
                                  '--rubric', rubric)
    assert result.returncode == 0, result.stderr[-3000:]
    test = json.loads((out / 'results.json').read_text())['tests'][0]
    assert 'budget of CPU time' in test['output'], test  # the spinner's CPU was the run's
    summary = json.loads((out / 'summary.json').read_text())
    assert any('the launcher reaps' in line for line in summary['protections'])
    assert not _uid_processes(63700), "a process of the run outlived it"


# --- late work ---------------------------------------------------------------------------


def test_a_submission_cannot_set_its_own_time(tmp_path):
    """A submission_metadata.json inside a zip or a folder is the student's file: the
    time, due date and late due date in it change nothing; the platform's own file,
    given outside the submissions, does."""
    import time
    import zipfile

    from autograder.course.late import FROM_FILE, FROM_METADATA, Policy, timing
    forged = json.dumps({'created_at': '2000-01-01T00:00:00Z',
                         'assignment': {'due_date': '2099-01-01T00:00:00Z'}})
    folder = tmp_path / 'submissions'
    (folder / 'dora').mkdir(parents=True)
    (folder / 'dora' / 'submission_metadata.json').write_text(forged)
    with zipfile.ZipFile(folder / 'zed.zip', 'w') as z:
        z.writestr('submission_metadata.json', forged)
        z.writestr('utils.py', 'x = 1\n')
    due = time.time() - 10 * 86400
    for name in ('dora', 'zed.zip'):
        os.utime(folder / name, (due + 2 * 86400 + 60, due + 2 * 86400 + 60))  # 3 started days
    platform = tmp_path / 'gradescope'
    platform.mkdir()
    policy = Policy.from_options(due=time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(due)),
                                 per_day='10%', metadata=platform)
    for name in ('dora', 'zed.zip'):
        when = timing(str(folder / name), policy)
        assert (when.source, when.late_days, when.penalty) == (FROM_FILE, 3, pytest.approx(0.3))
        assert when.due == policy.due
    # Gradescope's own record of zed's submission, kept outside the submissions folder.
    (platform / 'zed.zip.json').write_text(json.dumps({
        'created_at': time.strftime('%Y-%m-%dT%H:%M:%S%z', time.localtime(due - 60))}))
    when = timing(str(folder / 'zed.zip'), policy)
    assert (when.source, when.penalty) == (FROM_METADATA, 0.0)
