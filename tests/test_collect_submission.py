"""collect_submission.sh: exactly the listed files, checked, deterministic, with a manifest."""
import hashlib
import zipfile

from grading import SUBMITTED, collect, make_submission
from helpers import SOLUTIONS, STUDENT


def test_zip_holds_exactly_the_listed_files_and_a_manifest(tmp_path):
    folder = make_submission(tmp_path / 'pkg', extra={
        'models/helpers.py': 'X = 1\n', 'tests/test_mine.py': 'x = 1\n', 'notes.txt': 'hi\n',
        'models/__pycache__/a.cpython-311.pyc': b'\0', 'data/big.bin': b'0' * 1000})
    result = collect(folder, tmp_path / 'sub.zip')
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / 'sub.zip') as archive:
        names = archive.namelist()
        manifest = archive.read('MANIFEST.sha256').decode()
        contents = {n: archive.read(n) for n in names}
    assert sorted(names) == sorted(SUBMITTED + ['models/helpers.py', 'MANIFEST.sha256'])
    for line in manifest.splitlines():
        digest, rel = line.split('  ')
        assert hashlib.sha256(contents[rel]).hexdigest() == digest
    assert str(tmp_path / 'sub.zip') in result.stdout and 'bytes' in result.stdout


def test_same_files_give_a_byte_identical_zip(tmp_path):
    folder = make_submission(tmp_path / 'pkg')
    assert collect(folder, tmp_path / 'a.zip').returncode == 0
    (folder / 'utils.py').touch()  # a new modification time changes nothing
    assert collect(folder, tmp_path / 'b.zip').returncode == 0
    assert (tmp_path / 'a.zip').read_bytes() == (tmp_path / 'b.zip').read_bytes()


def test_missing_or_broken_files_refuse_without_a_zip(tmp_path):
    folder = make_submission(tmp_path / 'pkg', drop=('optimizer/sgd.py',),
                             changes={'models/two_layer_nn.py': [('def forward(', 'def forward(((')],
                                      'configs/config_exp.yaml': [('Train:', 'Train: [')]})
    result = collect(folder, tmp_path / 'sub.zip')
    assert result.returncode == 1
    assert 'error: optimizer/sgd.py: missing' in result.stderr
    assert 'error: models/two_layer_nn.py:' in result.stderr and 'does not parse' in result.stderr
    assert 'error: configs/config_exp.yaml: not valid YAML' in result.stderr
    assert not (tmp_path / 'sub.zip').exists()


def test_unfinished_stubs_warn_but_still_zip(tmp_path):
    result = collect(STUDENT, tmp_path / 'stubs.zip')
    assert result.returncode == 0
    warnings = [l for l in result.stderr.splitlines() if l.startswith('warning:')]
    assert any('models/two_layer_nn.py' in w and 'NotImplementedError' in w for w in warnings)
    assert len(warnings) == 14
    assert (tmp_path / 'stubs.zip').is_file()


def test_usage_errors(tmp_path):
    result = collect(tmp_path, tmp_path / 'x.zip')  # not a package folder
    assert result.returncode == 2 and 'submission_files.txt' in result.stderr


def listed_limits(listing):
    """{name: bytes} of the 'limit NAME BYTES' lines of a submission_files.txt."""
    return {words[1]: int(words[2]) for words in
            (line.split() for line in listing.read_text().splitlines())
            if words and words[0] == 'limit'}


def test_the_size_limits_are_the_shared_lines_of_submission_files():
    lines = (SOLUTIONS / 'submission_files.txt').read_text().splitlines()
    limit_lines = [line for line in lines if line.startswith('limit')]
    # The exact syntax the grader's intake reads too.
    assert limit_lines == ['limit file-bytes 65536', 'limit total-bytes 262144']
    assert any('grader enforces' in line for line in lines if line.startswith('#'))
    assert (STUDENT / 'submission_files.txt').read_text() == '\n'.join(lines) + '\n'


def test_a_file_over_the_limit_is_refused_naming_its_size(tmp_path):
    limit = listed_limits(SOLUTIONS / 'submission_files.txt')['file-bytes']
    folder = make_submission(tmp_path / 'pkg', extra={
        'models/weights.py': '# ' + 'x' * limit + '\n'})
    result = collect(folder, tmp_path / 'sub.zip')
    assert result.returncode == 1
    size = (folder / 'models' / 'weights.py').stat().st_size
    assert (f"error: models/weights.py: {size:,} bytes, over the grader's limit of "
            f"{limit:,} bytes per file") in result.stderr
    assert 'no zip written' in result.stderr and not (tmp_path / 'sub.zip').exists()


def test_files_over_the_total_limit_are_refused(tmp_path):
    limits = listed_limits(SOLUTIONS / 'submission_files.txt')
    each = limits['file-bytes'] - 100
    count = limits['total-bytes'] // each + 1
    folder = make_submission(tmp_path / 'pkg', extra={
        f'models/part{i}.py': '#' * (each - 1) + '\n' for i in range(count)})
    result = collect(folder, tmp_path / 'sub.zip')
    assert result.returncode == 1
    assert 'per file' not in result.stderr, "no single file is over its limit"
    assert (f"over the grader's limit of {limits['total-bytes']:,} bytes for a submission"
            in result.stderr)
    assert not (tmp_path / 'sub.zip').exists()


def test_the_limits_come_from_the_packages_own_listing(tmp_path):
    folder = make_submission(tmp_path / 'pkg')
    listing = folder / 'submission_files.txt'
    listing.write_text(listing.read_text().replace('limit file-bytes 65536',
                                                   'limit file-bytes 1000  # a comment'))
    result = collect(folder, tmp_path / 'sub.zip')
    assert result.returncode == 1
    assert "error: utils.py: " in result.stderr and 'limit of 1,000 bytes' in result.stderr
    for bad in ('limit file-bytes 0', 'limit file-bytes 64k', 'limit file-size 100',
                'limit total-bytes'):
        listing.write_text(f'{bad}\nutils.py\n')
        result = collect(folder, tmp_path / 'sub.zip')
        assert result.returncode == 2 and "expected 'limit NAME BYTES'" in result.stderr, bad


def test_a_failed_run_leaves_no_zip_to_upload_by_mistake(tmp_path):
    folder = make_submission(tmp_path / 'pkg')
    out = tmp_path / 'submission.zip'
    assert collect(folder, out).returncode == 0
    old = out.read_bytes()
    (folder / 'utils.py').write_text('def broken(:\n')
    result = collect(folder, out)
    assert result.returncode == 1 and 'no zip written' in result.stderr
    assert not out.exists(), "the previous zip is still there to be uploaded"
    assert (tmp_path / 'submission.zip.stale').read_bytes() == old
    assert 'renamed to submission.zip.stale' in result.stderr


def test_the_student_readme_states_the_listed_limits():
    import re

    from helpers import KIT

    text = next(KIT.glob('autograder/**/student_README.md')).read_text()
    stated = re.search(r'(\d+) KiB per file, (\d+) KiB for all of them together', text)
    limits = listed_limits(SOLUTIONS / 'submission_files.txt')
    assert stated, "the student README must state the size limits"
    assert (int(stated[1]) * 1024, int(stated[2]) * 1024) == (
        limits['file-bytes'], limits['total-bytes'])
