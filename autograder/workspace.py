"""The folders a grading run shows the sandbox, laid out fresh for each submission.

    <root>/            0o711, private to the judge (the sandbox may pass, not list)
      pkg/             the pristine student scaffold with the submission laid over it
      inputs/          probes.py and one request (.json + .npz) per probe run
      data/            shared per grading process: the training split, the test
                       images in a hidden order (never their labels), the two
                       training .gz files for load_mnist_trainval, and a
                       matplotlib font cache

Everything is written by the judge and read-only to the sandbox; nothing a
student sent can run here (no tests, conftest.py, sitecustomize.py or .pth
file is on the allowed list, and the child's Python runs isolated).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import paths, stubs

PROBES = Path(__file__).resolve().parent / 'probes.py'
# Scaffold files the sandbox never needs.
_SKIP_TOP = {'tests'}


def _write(path, data, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)


def build_package(submission, root, scaffold=None):
    """root/pkg: the scaffold's package files, then the submission's files over them.

    Returns:
        Path of the package folder.
    """
    scaffold = Path(scaffold or paths.student_dir())
    pkg = Path(root) / 'pkg'
    if pkg.exists():
        shutil.rmtree(pkg)
    for rel in stubs.package_files(scaffold):
        if rel.parts[0] not in _SKIP_TOP:
            _write(pkg / rel, (scaffold / rel).read_bytes())
    for rel, data in submission.files.items():
        _write(pkg / rel, data)
    for folder in [pkg, *(p for p in pkg.rglob('*') if p.is_dir())]:
        os.chmod(folder, 0o755)
    return pkg


class Inputs:
    """root/inputs: probes.py and the request files of one submission's runs."""

    def __init__(self, root):
        self.folder = Path(root) / 'inputs'
        self.folder.mkdir(exist_ok=True)
        os.chmod(self.folder, 0o755)
        _write(self.folder / 'probes.py', PROBES.read_bytes())
        self.script = self.folder / 'probes.py'

    def add(self, name, request):
        """Write one Request; return the path of its JSON file."""
        body = {'probe': request.probe, 'params': request.params, 'arrays': None}
        if request.arrays:
            body['arrays'] = f'{name}.npz'
            with open(self.folder / f'{name}.npz', 'wb') as f:
                np.savez(f, **request.arrays)
            os.chmod(self.folder / f'{name}.npz', 0o644)
        _write(self.folder / f'{name}.json', json.dumps(body, sort_keys=True).encode())
        return self.folder / f'{name}.json'


class GradingData:
    """root/data for the sandbox, and the test labels, which stay with the judge.

    Built on first use from the reference loader; the test images are stored
    in an order drawn from `seed`, so a submission cannot line its answers up
    with the public files.
    """

    def __init__(self, root, seed):
        self.folder = Path(root) / 'data'
        self.seed = seed
        self.seconds = 0.0
        self._labels = None

    def prepare(self):
        """Build the folder once; `seconds` records how long that took."""
        if self._labels is not None:
            return self.folder
        start = time.monotonic()
        utils = paths.solution_module('utils')
        train_data, train_label, _, _ = utils.load_mnist_trainval()
        test_data, test_label = utils.load_mnist_test()
        order = np.random.default_rng(self.seed).permutation(len(test_label))
        self.folder.mkdir(exist_ok=True)
        os.chmod(self.folder, 0o755)
        for name, array in (('train_images', train_data), ('train_labels', train_label),
                            ('test_images', test_data[order])):
            np.save(self.folder / f'{name}.npy', np.ascontiguousarray(array))
            os.chmod(self.folder / f'{name}.npy', 0o644)
        self._matplotlib_cache(self.folder / 'matplotlib')
        mnist = self.folder / 'mnist'
        mnist.mkdir(exist_ok=True)
        os.chmod(mnist, 0o755)
        for name in utils.MNIST_FILES['train']:
            _write(mnist / name, (utils.mnist_dir() / name).read_bytes())
        self._labels = np.asarray(test_label[order], dtype=np.float64)
        self.seconds = time.monotonic() - start
        return self.folder

    @staticmethod
    def _matplotlib_cache(folder):
        """Matplotlib's font cache: a sandboxed plot then starts in ~1 s, not 3.

        Building it scans the system fonts (~3 s), so it is built once into the
        judge's cache and copied from there; the sandbox sees only the copy.
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
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

    def test_labels(self):
        """The test labels in the hidden order, float64 (for comparison only)."""
        self.prepare()
        return self._labels
