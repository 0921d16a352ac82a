"""The data folders sandboxed runs may see, built once per grader from the verified MNIST files.

    <root>/public-<token>/       what unit tests need (mode 0755, files 0644)
      mnist/*.gz                 the two training files, for this kit's loader ($MNIST_DIR)
      csv/mnist_train.csv        the same images in the course's CSV layout (a label, then
      csv/mnist_test.csv         784 integers 0-255 per line), opened by its load_csv as
      csv/mnist_data/ -> .       ./data/mnist_train.csv (and the variants seen in the wild)
      matplotlib/                a prebuilt font cache: a plot then starts in 1 s, not 3
    <root>/train-<token>/        the accuracy tests' training split
      images.npy                 (48000, 784) float32: the images in a secret row order,
                                 each times a secret random rotation of R^784
      labels.npy                 (48000,) int64, in the same row order

The test images and labels never go in: the judge scores trained weights
with the reference (catalogue/accuracy.py). Why a rotation and not a pixel
permutation: MNIST is public, and a permutation leaves every column's
statistics intact (713 of the 716 non-blank pixels have a distinct sum over
the split), so code shipping 3 KB of column sums recovered the order exactly
and put pretrained weights in place of training. A rotation mixes every pixel
into every column and the row shuffle hides which public image a row is; the
first layer of both models is X @ W1, so training on X Q gives W1' = Q^T W1
in distribution and the judge maps the weights back as Q W1'.

Each folder gets a fresh random name every time a phase asks for it. The
root is 0711, so where the sandbox has no private root (its fallback) a run
reaches a folder here only by a name it was told; renamed before the next
phase, a name is useless to later runs: the accuracy run, above all, cannot
open the public images that would let it undo the rotation (by matching
rows to images through their lengths, which a rotation keeps).

The CSV files take ~30 s to write, so they are made once in the judge's
cache and linked (or copied) from there; they are derived from the .gz
files, never shipped.
"""
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import paths
from .secret import derived_seed

CSV_NAMES = {'train': 'mnist_train.csv', 'test': 'mnist_test.csv'}


def _publish(path, mode=0o644):
    os.chmod(path, mode)


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    _publish(target)


def _write_csv(images, labels, path):
    """The course's CSV layout: per line a label, then 784 integers 0-255.

    Converted 2,000 rows at a time: the whole training set in float64 would
    take 376 MB (and as much again for a temporary), half of Gradescope's
    default container.
    """
    with open(path, 'w') as f:
        for start in range(0, len(labels), 2000):
            chunk = np.asarray(images[start:start + 2000], dtype=np.float64)
            pixels = np.rint(chunk * 255).astype(np.uint8)
            rows = np.column_stack([labels[start:start + 2000], pixels])
            np.savetxt(f, rows, fmt='%d', delimiter=',')


def secret_rotation(secret, size=784):
    """A random orthogonal matrix (Haar-distributed) drawn from the secret."""
    rng = np.random.default_rng(derived_seed(secret, 'rotation'))
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    return q * np.sign(np.diag(r))


class GradingData:
    """The sandbox's data folders for one grader, and the secret rotation.

    Args:
        root: the grader's private folder.
        secret: the course secret (the rotation and the row order are drawn from it).

    Attributes:
        rotation: (784, 784) float64 orthogonal matrix Q: the sandbox's training
            images are the public ones times Q.
    """

    def __init__(self, root, secret):
        self.root = Path(root)
        self.secret = secret
        self.seconds = 0.0
        self._public = self._train = None
        # One BLAS thread: on a busy machine, threads waiting for each other
        # made this 784x784 QR take 13 s instead of 0.2 s.
        with self._utils().limit_blas_threads(1):
            self.rotation = secret_rotation(secret)

    def _utils(self):
        return paths.solution_module('utils')

    def _fresh_name(self, kind, folder=None):
        """folder moved to (or a path for) <root>/<kind>-<random token>."""
        fresh = self.root / f'{kind}-{secrets.token_hex(8)}'
        if folder is not None:
            os.rename(folder, fresh)
        return fresh

    def public(self):
        """The public folder, built on first call, under a new name at every call."""
        if self._public is not None:
            self._public = self._fresh_name('public', self._public)
        else:
            start = time.monotonic()
            folder = self._fresh_name('public')
            (folder / 'mnist').mkdir(parents=True, exist_ok=True)
            utils = self._utils()
            for name in utils.MNIST_FILES['train']:
                _link_or_copy(utils.mnist_dir() / name, folder / 'mnist' / name)
            csv = folder / 'csv'
            csv.mkdir(exist_ok=True)
            for split, name in CSV_NAMES.items():
                _link_or_copy(self._cached_csv(split), csv / name)
            (csv / 'mnist_data').mkdir(exist_ok=True)
            for name in CSV_NAMES.values():
                link = csv / 'mnist_data' / name
                if not link.is_symlink():
                    link.symlink_to(Path('..') / name)
            self._matplotlib_cache(folder / 'matplotlib')
            for path in [folder, *folder.rglob('*')]:
                if path.is_dir() and not path.is_symlink():
                    _publish(path, 0o755)
            self._public = folder
            self.seconds += time.monotonic() - start
        return self._public

    def train(self):
        """The training folder, built on first call, under a new name at every call."""
        if self._train is not None:
            self._train = self._fresh_name('train', self._train)
        else:
            start = time.monotonic()
            folder = self._fresh_name('train')
            folder.mkdir(parents=True, exist_ok=True)
            _publish(folder, 0o755)
            train_data, train_label, _, _ = self._utils().load_mnist_trainval()
            rows = np.random.default_rng(derived_seed(self.secret, 'rows')).permutation(
                len(train_label))
            rotation = self.rotation.astype(np.float32)
            images = np.empty((len(rows), rotation.shape[1]), dtype=np.float32)
            with self._utils().limit_blas_threads(1):
                for first in range(0, len(rows), 4000):  # no second full-size copy
                    chunk = rows[first:first + 4000]
                    images[first:first + len(chunk)] = np.asarray(train_data[chunk],
                                                                  dtype=np.float32) @ rotation
            np.save(folder / 'images.npy', images)
            del images
            np.save(folder / 'labels.npy', np.asarray(train_label, dtype=np.int64)[rows])
            for name in ('images.npy', 'labels.npy'):
                _publish(folder / name)
            self._train = folder
            self.seconds += time.monotonic() - start
        return self._train

    def _cached_csv(self, split):
        """The CSV of one split in the judge's cache, keyed by the .gz files' content."""
        utils = self._utils()
        sources = [utils.mnist_dir() / n for n in utils.MNIST_FILES[split]]
        h = hashlib.sha256()
        for source in sources:
            h.update(hashlib.sha256(source.read_bytes()).digest())
        cached = paths.cache_dir() / 'csv' / f'{h.hexdigest()[:16]}-{CSV_NAMES[split]}'
        if not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            images, labels = utils.load_mnist(split)
            fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix='.part')
            os.close(fd)
            try:
                _write_csv(images, labels, tmp)
                os.replace(tmp, cached)
            except BaseException:
                os.unlink(tmp)
                raise
        _publish(cached)
        return cached

    @staticmethod
    def _matplotlib_cache(folder):
        """Matplotlib's font cache, built once into the judge's cache and copied from there.

        Building it scans the system fonts (~3 s); the sandbox sees only the copy.
        """
        from importlib.metadata import version
        shared = paths.cache_dir() / f"matplotlib-{version('matplotlib')}"
        if not any(shared.glob('fontlist-*.json')):
            shared.parent.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(prefix='.matplotlib-', dir=shared.parent))
            env = dict(os.environ, MPLCONFIGDIR=str(building), MPLBACKEND='Agg')
            subprocess.run([sys.executable, '-c', 'import matplotlib.pyplot'], env=env,
                           check=True, capture_output=True, timeout=300)
            try:
                building.rename(shared)
            except OSError:  # another worker got there first: theirs is as good
                shutil.rmtree(building, ignore_errors=True)
        shutil.copytree(shared, folder, dirs_exist_ok=True)
        for path in [folder, *folder.rglob('*')]:
            _publish(path, 0o755 if path.is_dir() else 0o644)
