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
import site
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import paths
from .hidden_tests import Response, Verdict
from .sandbox import Sandbox

_NUMERIC = 'biuf'


def failure_response(result):
    """The Response of a request whose run ended before it answered."""
    failure = result.failure()
    if failure:
        suffix = " before returning a result" if failure.startswith('exited') else ""
        return Response({}, {}, error=f"the test run {failure}{suffix}")
    return Response({}, {}, error=f"the test run ended (exit status {result.exit_code}) "
                                  f"without returning a result: does the code exit?")


def decode(frame):
    """A Response from one answer frame of probes.py (untrusted bytes).

    Only .npz archives of plain numeric arrays are accepted (loaded with
    allow_pickle=False); each array is converted to float64. An error the code
    under test raised becomes Response.error.
    """
    try:
        with np.load(io.BytesIO(frame), allow_pickle=False) as archive:
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


def run_requests(sandbox, script, request_files, package, limits, data_dir=None, mounts=()):
    """Answer requests with probes.py in as few sandboxed processes as possible.

    One process answers the requests in order, each within its own time
    limit. If it dies, exits or runs late, that request gets the reason and
    the rest start over in a fresh process, so no request pays for another.

    Returns:
        (list of Response, list of seconds per request), in request order.
    """
    responses, seconds = [], []
    while len(responses) < len(request_files):
        todo = request_files[len(responses):]
        argv, env = probe_command(script, todo, package, data_dir)
        result = sandbox.run(argv, mounts=mounts, env=env,
                             frame_limits=limits[len(responses):])
        responses.extend(decode(frame) for frame in result.frames[:len(todo)])
        seconds.extend(result.frame_seconds[:len(todo)])
        if len(responses) < len(request_files):  # this request ended the run
            responses.append(failure_response(result))
            seconds.append(result.seconds - sum(result.frame_seconds))
    return responses, seconds


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
            return decode(cached.read_bytes())
        argv, env = probe_command(probes_script, [request_file], paths.solutions_dir(),
                                  data_dir)
        result = self.sandbox.run(argv, env=env, frame_limits=[max(timeout, 600)])
        response = decode(result.frames[0]) if result.frames else failure_response(result)
        if response.error:
            raise RuntimeError(f"the reference solution failed on {request_file.name}: "
                               f"{response.error}\n{result.output.decode(errors='replace')}")
        tmp = cached.with_suffix('.tmp')
        tmp.write_bytes(result.frames[0])
        tmp.replace(cached)
        return response


def probe_command(script, request_files, package, data_dir=None):
    """(argv, env) that run probes.py on requests against a package.

    Python starts isolated and without site (-I -S): no .pth file, no
    sitecustomize, no user site runs before the probe; probes.py puts the
    interpreter's site-packages on sys.path itself ($PROBE_SITE_PACKAGES).
    """
    env = _probe_env(data_dir)
    env['PROBE_SITE_PACKAGES'] = os.pathsep.join(site.getsitepackages())
    return [sys.executable, '-I', '-S', '-B', str(script), str(package),
            *map(str, request_files)], env


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

    def run_all(self, tests, package, missing, on_test=None):
        """Score tests (list of (hidden test, TestSpec)); never raises for student code.

        Every request of every test is answered in as few sandboxed processes
        as possible (run_requests); then each test compares its answers with
        the reference's.

        Returns:
            list of TestResult, in the order of `tests`.
        """
        planned = []  # (test, spec, verdict or None, [request files])
        for test, spec in tests:
            lacking = [f for f in test.needs if f in missing]
            if lacking:
                planned.append((test, spec, Verdict(0.0, f"not submitted: {', '.join(lacking)}"),
                                []))
                continue
            requests = test.requests(self)
            files = [self.inputs.add(f'{test.id}-{k}', r) for k, r in enumerate(requests)]
            planned.append((test, spec, None, [(f, r.data) for f, r in zip(files, requests)]))
        jobs = [(f, spec.timeout, data) for _, spec, verdict, files in planned if verdict is None
                for f, data in files]
        data_dir = self.data.prepare() if any(data for _, _, data in jobs) else None
        mounts = [(self.inputs.folder, False), (package, False)]
        if data_dir is not None:
            mounts.append((data_dir, False))
        responses, seconds = run_requests(self.sandbox, self.inputs.script,
                                          [f for f, _, _ in jobs], package,
                                          [limit for _, limit, _ in jobs], data_dir, mounts)
        answers = dict(zip([f for f, _, _ in jobs], zip(responses, seconds)))
        results = []
        for test, spec, verdict, files in planned:
            start = time.monotonic()
            if verdict is None:
                verdict = self._verdict(test, spec, [f for f, _ in files],
                                        [answers[f][0] for f, _ in files], data_dir)
            taken = sum(answers[f][1] for f, _ in files) + time.monotonic() - start
            fraction = min(max(float(verdict.fraction), 0.0), 1.0)
            result = TestResult(test.id, spec.number, spec.title,
                                round(fraction * spec.points, 4), spec.points, verdict.message,
                                spec.visibility, taken)
            results.append(result)
            if on_test:
                on_test(result)
        return results

    def _verdict(self, test, spec, files, got, data_dir):
        """The test's verdict on the student's responses to its request files."""
        for response in got:
            if response.error:
                return Verdict(0.0, response.error)
        ref = [self.reference.run(f, self.inputs.script, data_dir, spec.timeout) for f in files]
        return test.check(got, ref, spec, self)
