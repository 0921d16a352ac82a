"""get_data.sh: mirrors in turn, local source, checksums, idempotence, atomicity.

The public mirrors are out of reach here, so the download path runs against
HTTP servers on loopback serving good, truncated and corrupted copies.
"""
import functools
import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest

from helpers import KIT, run

NAMES = ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
         't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')
SHARED = KIT.parent / 'shared' / 'data' / 'mnist'


@pytest.fixture(scope='module')
def mirror_tree(tmp_path_factory):
    """Folders good/, truncated/, corrupt/ with the four files each."""
    root = tmp_path_factory.mktemp('mirrors')
    source = SHARED if SHARED.is_dir() else KIT / 'data' / 'mnist'
    for kind in ('good', 'truncated', 'corrupt'):
        (root / kind).mkdir()
        for name in NAMES:
            data = (source / name).read_bytes()
            if kind == 'truncated':
                data = data[:len(data) // 2]
            elif kind == 'corrupt':
                data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
            (root / kind / name).write_bytes(data)
    return root


@pytest.fixture(scope='module')
def server(mirror_tree):
    """An HTTP server on loopback serving mirror_tree; .requests lists the paths asked."""
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Handler, directory=str(mirror_tree)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.requests = requests
    yield httpd
    httpd.shutdown()


def dead_url():
    """A loopback URL nobody listens on."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return f'http://127.0.0.1:{port}/'


def get_data(dest, *args, mirrors=None, source=None):
    env = {'MNIST_MIRRORS': ' '.join(mirrors or []), 'MNIST_SOURCE': source or ''}
    return run(['bash', str(KIT / 'get_data.sh'), '--dest', str(dest), *args], env=env)


def final_files(dest):
    return sorted(p.name for p in Path(dest).iterdir() if not p.name.startswith('.'))


def test_dead_first_mirror_falls_back_to_the_next(server, tmp_path):
    result = get_data(tmp_path, mirrors=[dead_url(), f'{server.base}/good/'])
    assert result.returncode == 0, result.stderr
    assert final_files(tmp_path) == sorted(NAMES)
    assert all(f'fetched from {server.base}/good/' in result.stdout for _ in NAMES)


def test_second_run_fetches_nothing(server, tmp_path):
    assert get_data(tmp_path, mirrors=[f'{server.base}/good/']).returncode == 0
    before = len(server.requests)
    result = get_data(tmp_path, mirrors=[f'{server.base}/good/'])
    assert result.returncode == 0
    assert len(server.requests) == before, "verified files were fetched again"
    assert result.stdout.count('already in place, checksum ok') == 4


@pytest.mark.parametrize('kind', ['truncated', 'corrupt'])
def test_bad_copy_fails_with_one_line_and_no_file(server, tmp_path, kind):
    result = get_data(tmp_path, mirrors=[f'{server.base}/{kind}/'])
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4 and all('checksum mismatch' in line for line in lines), lines
    assert final_files(tmp_path) == [], "an unverified file sits under a final name"


def test_bad_mirror_then_good_mirror_succeeds(server, tmp_path):
    result = get_data(tmp_path, mirrors=[f'{server.base}/corrupt/', f'{server.base}/good/'])
    assert result.returncode == 0, result.stderr
    assert final_files(tmp_path) == sorted(NAMES)


def test_a_damaged_final_file_is_replaced(server, tmp_path):
    assert get_data(tmp_path, mirrors=[f'{server.base}/good/']).returncode == 0
    (tmp_path / NAMES[1]).write_bytes(b'garbage')
    result = get_data(tmp_path, mirrors=[f'{server.base}/good/'])
    assert result.returncode == 0 and f'{NAMES[1]}: fetched' in result.stdout


def test_local_source_is_verified_like_a_download(mirror_tree, tmp_path):
    ok = get_data(tmp_path / 'a', '--source', str(mirror_tree / 'good'))
    assert ok.returncode == 0 and final_files(tmp_path / 'a') == sorted(NAMES)
    via_env = get_data(tmp_path / 'b', source=str(mirror_tree / 'good'))
    assert via_env.returncode == 0
    bad = get_data(tmp_path / 'c', '--source', str(mirror_tree / 'truncated'))
    assert bad.returncode == 1 and 'checksum mismatch' in bad.stderr
    assert final_files(tmp_path / 'c') == []


def test_local_source_missing_file(mirror_tree, tmp_path):
    partial = tmp_path / 'partial'
    shutil.copytree(mirror_tree / 'good', partial)
    (partial / NAMES[2]).unlink()
    result = get_data(tmp_path / 'dest', '--source', str(partial))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"get_data.sh: {NAMES[2]}: missing in source folder "
                                     f"'{partial}'")
    assert NAMES[2] not in final_files(tmp_path / 'dest')


def test_usage_errors(tmp_path):
    assert get_data(tmp_path, '--bogus').returncode == 2
    missing = get_data(tmp_path, '--source', str(tmp_path / 'nope'))
    assert missing.returncode == 1 and 'does not exist' in missing.stderr
    assert 'Usage' in run(['bash', str(KIT / 'get_data.sh'), '--help']).stdout


def test_offline_every_mirror_unreachable_suggests_a_local_source(tmp_path):
    result = get_data(tmp_path, mirrors=[dead_url(), dead_url()])
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5 and all('unreachable or refused' in line for line in lines[:4])
    assert 'no mirror could be reached' in lines[4] and '--source DIR' in lines[4], lines[4]
    assert final_files(tmp_path) == []


def test_a_reachable_mirror_with_bad_copies_is_not_called_offline(server, tmp_path):
    result = get_data(tmp_path, mirrors=[dead_url(), f'{server.base}/corrupt/'])
    assert result.returncode == 1
    assert 'checksum mismatch' in result.stderr and 'no mirror could be reached' not in result.stderr


@pytest.mark.parametrize('how', ['option', 'environment'])
def test_a_file_as_source_asks_for_its_folder(mirror_tree, tmp_path, how):
    one_file = mirror_tree / 'good' / NAMES[0]
    if how == 'option':
        result = get_data(tmp_path / 'dest', '--source', str(one_file))
    else:
        result = get_data(tmp_path / 'dest', source=str(one_file))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"get_data.sh: --source wants a folder that holds the four .gz files; '{one_file}' "
        f"is a file (for this file, that is: --source '{mirror_tree / 'good'}')")
    assert not (tmp_path / 'dest').exists()
    other = tmp_path / 'notes.txt'
    other.write_text('x')
    result = get_data(tmp_path / 'dest', '--source', str(other))
    assert result.returncode == 2 and result.stderr.strip().endswith(f"'{other}' is a file")
