"""Intake: what a submission may contain, and how the rest is refused or ignored.

Names are any bytes and any length, archives any damage: intake refuses with a
reason, never raises anything but IntakeError, and lists stay capped.
"""
import dataclasses
import io
import os
import random
import stat
import threading
import time
import zipfile

import pytest

from autograder.grading.intake import (Allowlist, IntakeError, fingerprint,
                                       read_submission)
from grading import SUBMITTED, make_submission
from helpers import SOLUTIONS

ALLOW = Allowlist.read(SOLUTIONS / 'submission_files.txt')


def with_limits(**changes):
    return dataclasses.replace(ALLOW, limits=dataclasses.replace(ALLOW.limits, **changes))


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


def test_the_limits_come_from_submission_files_txt():
    text = (SOLUTIONS / 'submission_files.txt').read_text()
    assert 'limit file-bytes 65536' in text and 'limit total-bytes 262144' in text
    assert ALLOW.limits.file_bytes == 65536 and ALLOW.limits.total_bytes == 262144


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


def test_a_file_over_the_limit_is_refused_by_its_real_size(tmp_path):
    members = solution_members()
    members['models/weights.py'] = b'W = ' + b'0' * (50 * 2**20)  # compresses to ~50 KB
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    assert any(r.startswith('models/weights.py: larger than 65,536 bytes') for r in sub.refused)
    assert 'models/weights.py' not in sub.files and len(sub.files) == len(SUBMITTED)


def test_files_adding_up_past_the_total_refuse_the_submission_naming_the_file(tmp_path):
    members = solution_members()
    for i in range(8):
        members[f'models/table{i}.py'] = b'#' * 60_000
    with pytest.raises(IntakeError, match=r'more than 262,144 bytes .*models/table\d\.py'):
        read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)


def test_member_count_and_archive_size_limits(tmp_path):
    members = {f'models/m{i}.py': b'1' for i in range(30)}
    path = zip_of(tmp_path / 'a.zip', members)
    with pytest.raises(IntakeError, match='30 members; the limit is 10'):
        read_submission(path, with_limits(members=10))
    (tmp_path / 'huge.zip').write_bytes(b'\0' * 2000)
    with pytest.raises(IntakeError, match='2,000 bytes; the limit is 1,000'):
        read_submission(tmp_path / 'huge.zip', with_limits(archive_bytes=1000))


def test_members_off_the_list_are_never_decompressed(tmp_path):
    members = solution_members()
    members['data/mnist_train.csv'] = b'5,0,0\n' * (20 * 2**20 // 6)  # a student's data copy
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    assert 'data/mnist_train.csv' in sub.ignored and sorted(sub.files) == sorted(SUBMITTED)


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
    assert any(r.startswith('utils.py: damaged') for r in sub.refused)
    assert 'utils.py' in sub.missing and 'models/two_layer_nn.py' in sub.files


def test_unsupported_compression_and_encryption_are_refused_members(tmp_path):
    path = zip_of(tmp_path / 'a.zip', solution_members())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        infos = {i.filename: i for i in archive.infolist()}
    # compression method 99 (AES) on one member, the encryption flag on another
    for name, (offset, value) in (('utils.py', (8, 99)), ('optimizer/sgd.py', (6, 1))):
        data[infos[name].header_offset + offset] = value
        central = data.find(b'PK\x01\x02')
        while central != -1:
            size = int.from_bytes(data[central + 28:central + 30], 'little')
            if data[central + 46:central + 46 + size] == name.encode():
                data[central + offset + 2] = value
            central = data.find(b'PK\x01\x02', central + 4)
    (tmp_path / 'odd.zip').write_bytes(bytes(data))
    sub = read_submission(tmp_path / 'odd.zip', ALLOW)
    assert 'utils.py' in sub.missing and 'optimizer/sgd.py' in sub.missing
    assert 'models/two_layer_nn.py' in sub.files


def test_any_name_bytes_and_length(tmp_path):
    members = solution_members()
    members['models/' + 'a' * 300 + '.py'] = b'x'
    members['models/caf\u00e9.py'] = b'x'
    members['models/tab\tname.py'] = b'x'
    members['models/\x1b[2Jclear.py'] = b'x'
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    refused = '\n'.join(sub.refused)
    assert refused.count('the grader does not accept') == 4
    assert '\x1b' not in refused and '\t' not in refused  # shown escaped
    assert sorted(sub.files) == sorted(SUBMITTED)
    # A name that is not UTF-8 (zip flag off: read as cp437) and a folder file named in bytes.
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, 'w') as archive:
        archive.writestr('utils.py', b'x')
    blob = raw.getvalue().replace(b'utils.py', b'util\xff.py')
    (tmp_path / 'bytes.zip').write_bytes(blob)
    sub = read_submission(tmp_path / 'bytes.zip', ALLOW)
    assert sub.files == {}
    folder = make_submission(tmp_path / 'pkg')
    with open(os.path.join(os.fsencode(folder / 'models'), b'odd\xff\xfe.py'), 'wb') as f:
        f.write(b'x')
    sub = read_submission(folder, ALLOW)
    assert sorted(sub.files) == sorted(SUBMITTED)
    assert any('odd' in r and 'does not accept' in r for r in sub.refused)


def test_lists_in_the_notes_are_capped(tmp_path):
    members = solution_members()
    members.update({f'junk/file{i}.txt': b'x' for i in range(3000)})
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    line = next(n for n in sub.notes() if n.startswith('ignored'))
    assert '... and 2980 more' in line and len(line) < 2000


def test_missing_files_and_wrapper_folder(tmp_path):
    members = {f'hw1/{rel}': data for rel, data in solution_members().items()
               if rel != 'models/two_layer_nn.py'}
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    assert sub.missing == ['models/two_layer_nn.py']
    assert 'utils.py' in sub.files
    assert any(line == 'missing: models/two_layer_nn.py' for line in sub.notes())


def test_folder_submission_with_symlink_fifo_and_junk(tmp_path):
    folder = make_submission(tmp_path / 'pkg', extra={'results/plot.png': b'\x89PNG' * 10**6})
    os.symlink('/etc/passwd', folder / 'models' / 'link.py')
    os.mkfifo(folder / 'models' / 'pipe.py')
    sub = read_submission(folder, ALLOW)
    assert sorted(sub.files) == sorted(SUBMITTED)
    assert 'models/link.py: symbolic links are not accepted' in sub.refused
    assert 'models/pipe.py: not a regular file' in sub.refused
    assert 'results/plot.png' in sub.ignored
    os.symlink(folder, tmp_path / 'link-to-pkg')
    with pytest.raises(IntakeError, match='symbolic links are not accepted'):
        read_submission(tmp_path / 'link-to-pkg', ALLOW)


@pytest.mark.slow
def test_a_folder_whose_files_are_swapped_for_symlinks_while_read_never_leaks(tmp_path):
    """Files replaced by symlinks to a secret mid-read: never the secret's content.

    A racer thread keeps renaming a symlink to the secret over each submitted
    file and back, as fast as it can; whatever intake reads must be the
    file's own bytes or a refusal.
    """
    secret = tmp_path / 'secret.txt'
    secret.write_bytes(b'TOP SECRET LABELS')
    folder = make_submission(tmp_path / 'pkg')
    originals = {rel: (folder / rel).read_bytes() for rel in SUBMITTED}
    stop = threading.Event()

    def racer():
        while not stop.is_set():
            for rel in SUBMITTED:
                target = folder / rel
                link = target.with_name(target.name + '.lnk')
                saved = target.with_name(target.name + '.orig')
                try:
                    os.symlink(secret, link)
                    os.rename(target, saved)
                    os.rename(link, target)
                    os.rename(saved, target)
                except OSError:
                    pass

    thread = threading.Thread(target=racer, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            sub = read_submission(folder, ALLOW)
            for rel, data in sub.files.items():
                assert b'TOP SECRET' not in data
                if rel in originals:
                    assert data == originals[rel]
    finally:
        stop.set()
        thread.join()


def test_manifest_is_checked(tmp_path):
    members = solution_members()
    members['MANIFEST.sha256'] = f"{'0' * 64}  utils.py\n".encode()
    sub = read_submission(zip_of(tmp_path / 'a.zip', members), ALLOW)
    assert sub.manifest == 'utils.py changed after the zip was made'
    assert 'manifest: utils.py changed after the zip was made' in sub.notes()


def test_not_a_submission(tmp_path):
    with pytest.raises(IntakeError, match='no such file'):
        read_submission(tmp_path / 'nothing', ALLOW)
    assert fingerprint(tmp_path / 'nothing', ALLOW) == 'unreadable'


def test_allowlist_matches_one_level_only_and_rejects_bad_limit_lines(tmp_path):
    assert ALLOW.allows('models/extra.py') and not ALLOW.allows('models/sub/extra.py')
    assert ALLOW.allows('utils.py') and not ALLOW.allows('train.py')
    bad = tmp_path / 'files.txt'
    bad.write_text('utils.py\nlimit file-byte 10\n')
    with pytest.raises(ValueError, match='limit NAME BYTES'):
        Allowlist.read(bad)


def _mutations(rng, data):
    """A damaged copy of a zip: flipped bytes, cut, spliced, or a header field set."""
    data = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:
        del data[rng.randrange(len(data)):]
    elif kind == 2:
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 3:  # a local or central header field (sizes, method, flags, name length)
        signature = rng.choice([b'PK\x03\x04', b'PK\x01\x02', b'PK\x05\x06'])
        at = data.find(signature, rng.randrange(len(data)))
        if at == -1:
            at = data.find(signature)
        if at != -1:
            field = at + rng.randrange(4, 30)
            width = rng.choice([1, 2, 4])
            data[field:field + width] = rng.choice([b'\xff', b'\x00', b'\x63', b'\x0e']) * width
    else:
        data = data[:rng.randrange(len(data))] + data[rng.randrange(len(data)):]
    return bytes(data)


def test_a_seeded_fuzz_of_damaged_zips_never_escapes_intake(tmp_path):
    """Thousands of damaged zips (seeded): IntakeError or a Submission, nothing else."""
    base = zip_of(tmp_path / 'base.zip', {**solution_members(),
                                           'MANIFEST.sha256': b'0' * 64 + b'  utils.py\n'})
    stored = tmp_path / 'stored.zip'
    with zipfile.ZipFile(stored, 'w', zipfile.ZIP_STORED) as archive:
        for rel, data in solution_members().items():
            archive.writestr(rel, data)
    seeds = [base.read_bytes(), stored.read_bytes()]
    rng = random.Random(20261201)
    outcomes = {'refused': 0, 'read': 0}
    path = tmp_path / 'case.zip'
    start = time.monotonic()
    for case in range(3000):
        path.write_bytes(_mutations(rng, rng.choice(seeds)))
        try:
            sub = read_submission(path, ALLOW)
        except IntakeError:
            outcomes['refused'] += 1
            assert fingerprint(path, ALLOW).startswith('unreadable')
            continue
        outcomes['read'] += 1
        assert all(isinstance(v, bytes) for v in sub.files.values())
        assert all(len(n) < 2000 for n in sub.notes())
        if time.monotonic() - start > 120:
            break
    assert outcomes['refused'] and outcomes['read'], outcomes
