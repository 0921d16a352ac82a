"""collect_submission.sh: exactly the listed files, checked, deterministic, with a manifest."""
import hashlib
import zipfile

from grading import SUBMITTED, collect, make_submission
from helpers import STUDENT


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
