"""The folders one submission's runs see, laid out fresh for each submission.

    <root>/            0o711, private to the judge (the sandbox may pass, not list)
      pkg/             the pristine student scaffold with the submission laid over it
        data/          empty: the MNIST CSV files are mounted here (the course's layout)
      inputs/          probes.py and one request (.json + .npz) per probe run

Everything is written by the judge and read-only to the sandbox; nothing a
student sent can run here (no tests, conftest.py, sitecustomize.py or .pth
file is on the allowed list, and the child's Python runs isolated).
"""
import json
import os
import shutil
from pathlib import Path

import numpy as np

from .. import paths

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
    for rel in paths.package_files(scaffold):
        if rel.parts[0] not in _SKIP_TOP:
            _write(pkg / rel, (scaffold / rel).read_bytes())
    for rel, data in submission.files.items():
        _write(pkg / rel, data)
    # Where the course's layout keeps its CSV files (./data inside the package
    # folder); the judge mounts them there, empty otherwise.
    (pkg / 'data').mkdir(exist_ok=True)
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
        self._count = 0

    def add(self, name, request):
        """Write one catalogue Request; return the path of its JSON file."""
        self._count += 1
        stem = f'{self._count:03d}-{name}'
        body = {'probe': request.probe, 'params': request.params, 'arrays': None}
        if request.arrays:
            body['arrays'] = f'{stem}.npz'
            with open(self.folder / f'{stem}.npz', 'wb') as f:
                np.savez(f, **request.arrays)
            os.chmod(self.folder / f'{stem}.npz', 0o644)
        _write(self.folder / f'{stem}.json', json.dumps(body, sort_keys=True).encode())
        return self.folder / f'{stem}.json'
