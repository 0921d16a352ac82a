"""The reference loader: IDX validation, the decoded cache, error messages."""
import gzip
import os
import shutil
import time

import numpy as np
import pytest

import utils


def write_idx(path, array, magic=None):
    header = (magic if magic is not None else 0x800 + array.ndim).to_bytes(4, 'big')
    header += b''.join(int(n).to_bytes(4, 'big') for n in array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A tiny MNIST-shaped folder in $MNIST_DIR: 10 train and 4 test examples."""
    rng = np.random.default_rng(0)
    for split, n in (('train', 10), ('test', 4)):
        images, labels = utils.MNIST_FILES[split]
        write_idx(tmp_path / images, rng.integers(0, 256, size=(n, 28, 28)))
        write_idx(tmp_path / labels, rng.integers(0, 10, size=n))
    monkeypatch.setenv('MNIST_DIR', str(tmp_path))
    return tmp_path


def test_decodes_and_scales(fake_mnist):
    images, labels = utils.load_mnist('train')
    raw = utils.read_idx(fake_mnist / 'train-images-idx3-ubyte.gz', 3)
    assert images.shape == (10, 784) and images.dtype == np.float32
    assert labels.dtype == np.int64
    np.testing.assert_allclose(images, raw.reshape(10, -1) / 255.0, rtol=1e-6)


def test_cache_is_used_then_invalidated(fake_mnist):
    first = utils.load_mnist('train')
    cache = fake_mnist / 'cache' / 'train-images.npy'
    assert cache.is_file()
    # A changed source (new size and time) must be decoded again, not served stale.
    rng = np.random.default_rng(1)
    write_idx(fake_mnist / 'train-images-idx3-ubyte.gz', rng.integers(0, 256, (10, 28, 28)))
    later = time.time() + 5
    os.utime(fake_mnist / 'train-images-idx3-ubyte.gz', (later, later))
    second = utils.load_mnist('train')
    assert not np.array_equal(first[0], second[0])


def test_writing_to_loaded_arrays_never_changes_the_cache(fake_mnist):
    utils.load_mnist('train')
    images, _ = utils.load_mnist('train')  # served from the cache
    images[:] = 0
    again, _ = utils.load_mnist('train')
    assert again.max() > 0


def test_damaged_cache_is_rebuilt(fake_mnist):
    expected = utils.load_mnist('test')[0].copy()
    (fake_mnist / 'cache' / 'test.json').write_text('{not json')
    np.testing.assert_array_equal(utils.load_mnist('test')[0], expected)


def test_read_only_folder_loads_without_cache(fake_mnist):
    os.chmod(fake_mnist, 0o555)
    try:
        images, _ = utils.load_mnist('test')
    finally:
        os.chmod(fake_mnist, 0o755)
    assert images.shape == (4, 784)


@pytest.mark.parametrize('damage, message', [
    ('magic', 'magic number'),
    ('short', 'header'),
    ('not-gzip', 'not a readable gzip'),
])
def test_corrupt_files_are_named(fake_mnist, damage, message):
    path = fake_mnist / 'train-labels-idx1-ubyte.gz'
    if damage == 'magic':
        write_idx(path, np.zeros(10), magic=0x803)
    elif damage == 'short':
        with gzip.open(path, 'wb') as f:
            f.write((0x801).to_bytes(4, 'big') + (10).to_bytes(4, 'big') + b'\0' * 9)
    else:
        path.write_bytes(b'plain text')
    with pytest.raises(ValueError, match=message) as err:
        utils.load_mnist('train')
    assert 'train-labels' in str(err.value)


def test_count_mismatch(fake_mnist):
    write_idx(fake_mnist / 'train-labels-idx1-ubyte.gz', np.zeros(9))
    with pytest.raises(ValueError, match='10 train images but 9 labels'):
        utils.load_mnist('train')


def test_missing_data_says_to_run_get_data(tmp_path, monkeypatch):
    monkeypatch.setenv('MNIST_DIR', str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='get_data.sh'):
        utils.load_mnist_trainval()


def test_default_folder_is_beside_the_package(monkeypatch):
    monkeypatch.delenv('MNIST_DIR', raising=False)
    assert utils.mnist_dir() == utils.Path(utils.__file__).resolve().parent.parent / 'data' / 'mnist'


def test_real_cache_loads_fast_and_identical(mnist, tmp_path, monkeypatch):
    for name in os.listdir(mnist):
        if name.endswith('.gz'):
            shutil.copy(mnist / name, tmp_path / name)
    monkeypatch.setenv('MNIST_DIR', str(tmp_path))
    decoded = utils.load_mnist_trainval()
    cached = utils.load_mnist_trainval()
    for a, b in zip(decoded, cached):
        np.testing.assert_array_equal(a, b)
        assert type(b) is np.ndarray
