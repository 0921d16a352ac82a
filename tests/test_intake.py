"""Intake: what a submission may contain, and how the rest is refused or ignored."""
import io
import os
import stat
import zipfile

import pytest

from autograder.intake import Allowlist, IntakeError, Limits, read_submission
from grading import SUBMITTED, make_submission
from helpers import SOLUTIONS

ALLOW = Allowlist.read(SOLUTIONS / 'submission_files.txt')


def zip_of(path, members, symlinks=()):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def solution_members():
    return {rel: (SOLUTIONS / rel).read_bytes() for rel in SUBMITTED}


def test_a_clean_zip(tmp_path):
    sub = read_submission(zip_of(tmp_path / 'a.zip', solution_members()), ALLOW)
    assert sorted(sub.files) == sorted(SUBMITTED)
    assert sub.missing == [] and sub.refused == [] and sub.ignored == []
    assert len(sub.digest) == 64


def test_dangerous_and_foreign_members(tmp_path):
    members = solution_members()
    members.update({'../evil.py': b'x', '/etc/passwd': b'x', 'models/../../up.py': b'x',
                    'conftest.py': b'import os', 'sitecustomize.py': b'import os',
                    'models/evil.pth': b'import os', 'tests/test_fake.py': b'x',
                    '__MACOSX/._utils.py': b'x'})
    sub = read_submission(zip_of(tmp_path / 'a.zip', members,
                                 symlinks=[('models/link.py', '/etc/passwd')]), ALLOW)
    refused = '\n'.join(sub.refused)
    assert '../evil.py: path escapes' in refused
    assert '/etc/passwd: absolute path' in refused
    assert 'models/../../up.py: path escapes' in refused
    assert 'models/link.py: symbolic links are not accepted' in refused
    assert sorted(sub.ignored) == ['conftest.py', 'models/evil.pth', 'sitecustomize.py',
                                   'tests/test_fake.py']
    assert sorted(sub.files) == sorted(SUBMITTED)
    assert any('ignored' in line and 'conftest.py' in line for line in sub.notes())


def test_zip_bomb_member_is_refused_by_its_real_size(tmp_path):
    members = solution_members()
    members['models/bomb.py'] = b'0' * (50 * 2**20)  # compresses to ~50 KB
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    assert any(r.startswith('models/bomb.py: larger than') for r in sub.refused)
    assert 'models/bomb.py' not in sub.files and len(sub.files) == len(SUBMITTED)


def test_total_size_and_member_count_limits(tmp_path):
    members = {f'models/m{i}.py': b'1' * 1000 for i in range(30)}
    path = zip_of(tmp_path / 'a.zip', members)
    with pytest.raises(IntakeError, match='more than 20,000 bytes'):
        read_submission(path, ALLOW, Limits(total_bytes=20_000, member_bytes=5_000))
    with pytest.raises(IntakeError, match='30 members; the limit is 10'):
        read_submission(path, ALLOW, Limits(members=10))
    (tmp_path / 'huge.zip').write_bytes(b'\0' * 2000)
    with pytest.raises(IntakeError, match='2,000 bytes; the limit is 1,000'):
        read_submission(tmp_path / 'huge.zip', ALLOW, Limits(archive_bytes=1000))


def test_corrupt_zips(tmp_path):
    good = zip_of(tmp_path / 'a.zip', solution_members()).read_bytes()
    (tmp_path / 'truncated.zip').write_bytes(good[:len(good) // 2])
    with pytest.raises(IntakeError, match='not a readable zip'):
        read_submission(tmp_path / 'truncated.zip', ALLOW)
    (tmp_path / 'text.zip').write_text('hello')
    with pytest.raises(IntakeError, match='not a readable zip'):
        read_submission(tmp_path / 'text.zip', ALLOW)
    # Flip a byte inside utils.py's compressed data: that member alone is refused.
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        info = archive.getinfo('utils.py')
    damaged = bytearray(good)
    offset = info.header_offset + 30 + len(info.filename) + 40
    damaged[offset] ^= 0xFF
    (tmp_path / 'damaged.zip').write_bytes(bytes(damaged))
    sub = read_submission(tmp_path / 'damaged.zip', ALLOW)
    assert any(r.startswith('utils.py: corrupt member') for r in sub.refused)
    assert 'utils.py' in sub.missing and 'models/two_layer_nn.py' in sub.files


def test_missing_files_and_wrapper_folder(tmp_path):
    members = {f'hw1/{rel}': data for rel, data in solution_members().items()
               if rel != 'models/two_layer_nn.py'}
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    assert sub.missing == ['models/two_layer_nn.py']
    assert 'utils.py' in sub.files
    assert any(line == 'missing: models/two_layer_nn.py' for line in sub.notes())


def test_folder_submission_with_symlink_and_junk(tmp_path):
    folder = make_submission(tmp_path / 'pkg', extra={'results/plot.png': b'\x89PNG' * 10**6})
    os.symlink('/etc/passwd', folder / 'models' / 'link.py')
    sub = read_submission(folder, ALLOW)
    assert sorted(sub.files) == sorted(SUBMITTED)
    assert 'models/link.py: symbolic links are not accepted' in sub.refused
    assert 'results/plot.png' in sub.ignored


def test_manifest_is_checked(tmp_path):
    members = solution_members()
    members['MANIFEST.sha256'] = f"{'0' * 64}  utils.py\n".encode()
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    assert sub.manifest == 'utils.py changed after the zip was made'
    assert 'manifest: utils.py changed after the zip was made' in sub.notes()


def test_not_a_submission(tmp_path):
    with pytest.raises(IntakeError, match='no such file'):
        read_submission(tmp_path / 'nothing', ALLOW)


def test_allowlist_matches_one_level_only():
    assert ALLOW.allows('models/extra.py') and not ALLOW.allows('models/sub/extra.py')
    assert ALLOW.allows('utils.py') and not ALLOW.allows('train.py')
