"""The trusted side: run each hidden test's probes, validate the answers, score them.

The judge never imports student code. For each test it writes the requests,
has the sandbox run probes.py against the student's package, and runs the
same requests against the reference solution (trusted, cached on disk). It
turns every array that comes back into a float64 ndarray and checks shapes
and finiteness before the test compares anything, so array subclasses,
objects equal to everything, a patched numpy in the child, or text printed
to stdout cannot change a score.
"""
import hashlib
import io
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import paths
from .hidden_tests import Response, Verdict
from .sandbox import Sandbox

_NUMERIC = 'biuf'


def decode(result):
    """A Response from a sandbox RunResult; failures become Response.error.

    Only .npz archives of plain numeric arrays are accepted (loaded with
    allow_pickle=False); each array is converted to float64.
    """
    failure = result.failure()
    if failure:
        suffix = " before returning a result" if failure.startswith('exited') else ""
        return Response({}, {}, error=f"the test run {failure}{suffix}")
    if not result.payload:
        return Response({}, {}, error=f"the test run ended (exit status {result.exit_code}) "
                                      f"without returning a result: does the code exit?")
    try:
        with np.load(io.BytesIO(result.payload), allow_pickle=False) as archive:
            raw = {k: archive[k] for k in archive.files}
    except Exception as err:  # any parse failure of untrusted bytes
        return Response({}, {}, error=f"the result could not be read ({type(err).__name__})")
    meta = {}
    if '__meta__' in raw:
        try:
            meta = json.loads(bytes(np.asarray(raw.pop('__meta__'), dtype=np.uint8)).decode())
        except (ValueError, UnicodeDecodeError, TypeError):
            return Response({}, {}, error="the result's description could not be read")
        if not isinstance(meta, dict):
            return Response({}, {}, error="the result's description could not be read")
    if 'error' in meta:
        where = meta.get('where') if isinstance(meta.get('where'), list) else []
        text = str(meta['error'])[:600]
        if where:
            text += '\n  at ' + '\n  at '.join(str(w)[:200] for w in where[-3:])
        return Response({}, meta, error=text)
    arrays = {}
    for key, value in raw.items():
        if value.dtype.kind not in _NUMERIC:
            return Response({}, meta, error=f"{key}: returned {value.dtype} data, not numbers")
        arrays[key] = np.asarray(value, dtype=np.float64)
    return Response(arrays, meta)


@dataclass
class TestResult:
    """One test's outcome, as reported to the student."""
    id: str
    number: str
    title: str
    score: float
    max_score: float
    output: str
    visibility: str
    seconds: float

    @property
    def status(self):
        return 'passed' if self.score >= self.max_score else 'failed'


class Reference:
    """Runs requests against the reference solution, caching the raw answers.

    The cache key covers probes.py, the reference package's sources and the
    request's bytes, so any change to one of them recomputes.
    """

    def __init__(self, workdir, cache_dir):
        self.sandbox = Sandbox(Path(workdir) / 'reference', trusted=True)
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.cache_dir, 0o700)
        h = hashlib.sha256()
        for path in sorted(paths.solutions_dir().rglob('*.py')):
            if 'tests' not in path.relative_to(paths.solutions_dir()).parts:
                h.update(path.read_bytes())
        h.update((Path(__file__).parent / 'probes.py').read_bytes())
        self.version = h.hexdigest()

    def run(self, request_file, probes_script, data_dir, timeout):
        h = hashlib.sha256(self.version.encode())
        h.update(request_file.read_bytes())
        arrays = request_file.with_suffix('.npz')
        if arrays.exists():
            h.update(arrays.read_bytes())
        cached = self.cache_dir / f'{h.hexdigest()}.npz'
        if cached.exists():
            payload = cached.read_bytes()
        else:
            result = self.sandbox.run(
                [sys.executable, '-I', '-B', str(probes_script), str(request_file),
                 str(paths.solutions_dir())], timeout=max(timeout, 600),
                env=_probe_env(data_dir))
            response = decode(result)
            if response.error:
                raise RuntimeError(f"the reference solution failed on {request_file.name}: "
                                   f"{response.error}\n{result.output.decode(errors='replace')}")
            payload = result.payload
            tmp = cached.with_suffix('.tmp')
            tmp.write_bytes(payload)
            tmp.replace(cached)
        return decode_payload(payload)


def decode_payload(payload):
    from .sandbox import RunResult
    return decode(RunResult(exit_code=0, payload=payload))


def _probe_env(data_dir):
    if data_dir is None:
        return {}
    return {'PROBE_DATA_DIR': str(data_dir), 'MNIST_DIR': str(Path(data_dir) / 'mnist'),
            'PROBE_MPL_CACHE': str(Path(data_dir) / 'matplotlib')}


class Judge:
    """Grades one submission's package test by test.

    Args:
        sandbox: the Sandbox that runs student code.
        reference: the Reference runner.
        inputs: the workspace.Inputs to write requests into.
        data: the workspace.GradingData (prepared on first need).
    """

    def __init__(self, sandbox, reference, inputs, data):
        self.sandbox = sandbox
        self.reference = reference
        self.inputs = inputs
        self.data = data
        self.leaderboard = {}

    def test_labels(self):
        return self.data.test_labels()

    def run(self, test, spec, package, missing):
        """Score one test; never raises for anything the student's code does."""
        start = time.monotonic()
        lacking = [f for f in test.needs if f in missing]
        if lacking:
            verdict = Verdict(0.0, f"not submitted: {', '.join(lacking)}")
        else:
            verdict = self._verdict(test, spec, package)
        fraction = min(max(float(verdict.fraction), 0.0), 1.0)
        return TestResult(test.id, spec.number, spec.title, round(fraction * spec.points, 4),
                          spec.points, verdict.message, spec.visibility,
                          time.monotonic() - start)

    def _verdict(self, test, spec, package):
        requests = test.requests(self)
        data_dir = self.data.prepare() if any(r.data for r in requests) else None
        got, ref = [], []
        for k, request in enumerate(requests):
            request_file = self.inputs.add(f'{test.id}-{k}', request)
            mounts = [(self.inputs.folder, False), (package, False)]
            if data_dir is not None:
                mounts.append((data_dir, False))
            result = self.sandbox.run(
                [sys.executable, '-I', '-B', str(self.inputs.script), str(request_file),
                 str(package)], mounts=mounts, timeout=spec.timeout,
                env=_probe_env(data_dir))
            response = decode(result)
            if response.error:
                return Verdict(0.0, response.error)
            got.append(response)
            ref.append(self.reference.run(request_file, self.inputs.script, data_dir,
                                          spec.timeout))
        return test.check(got, ref, spec, self)
