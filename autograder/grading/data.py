"""The data folders sandboxed runs may see, built once per grader from the verified MNIST files.

    <root>/public/               what unit tests need (mode 0755, files 0644)
      mnist/*.gz                 the two training files, for this kit's loader ($MNIST_DIR)
      csv/mnist_train.csv        the same images in the course's CSV layout (a label, then
      csv/mnist_test.csv         784 integers 0-255 per line), opened by its load_csv as
      csv/mnist_data/ -> .       ./data/mnist_train.csv (and the variants seen in the wild)
      matplotlib/                a prebuilt font cache: a plot then starts in 1 s, not 3
    <root>/train/                the accuracy tests' training split
      images.npy                 (48000, 784) float32, pixels in a secret order
      labels.npy                 (48000,) int64

The test images and labels never go in: the judge scores trained weights
with the reference (catalogue/accuracy.py). The CSV files take ~30 s to
write, so they are made once in the judge's cache and linked (or copied)
from there; they are derived from the .gz files, never shipped.
"""
import hashlib
import os
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


class GradingData:
    """The sandbox's data folders for one grader, and the secret pixel order.

    Args:
        root: the grader's private folder.
        secret: the course secret (the pixel order is drawn from it).
    """

    def __init__(self, root, secret):
        self.root = Path(root)
        self.secret = secret
        self.seconds = 0.0
        self._public = self._train = None
        self.pixels = np.random.default_rng(derived_seed(secret, 'pixels')).permutation(784)

    def _utils(self):
        return paths.solution_module('utils')

    def public(self):
        """The public folder (built on first call)."""
        if self._public is None:
            start = time.monotonic()
            folder = self.root / 'public'
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
        """The training folder (built on first call)."""
        if self._train is None:
            start = time.monotonic()
            folder = self.root / 'train'
            folder.mkdir(parents=True, exist_ok=True)
            _publish(folder, 0o755)
            train_data, train_label, _, _ = self._utils().load_mnist_trainval()
            np.save(folder / 'images.npy', np.ascontiguousarray(train_data[:, self.pixels]))
            np.save(folder / 'labels.npy', np.asarray(train_label, dtype=np.int64))
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
