"""The reference's long-lived process (grading/reference_process.py): the answers of a
fresh run, and any fault ends it cleanly so the judge falls back to a fresh run."""
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from autograder import paths
from autograder.catalogue import load_catalogue
from autograder.catalogue.types import Context
from autograder.grading.reference_process import ReferenceProcess
from autograder.grading.sandbox import Budget, Limits, Sandbox
from autograder.grading.sessions import Job, run_jobs
from autograder.grading.workspace import PROBES, Inputs

pytestmark = pytest.mark.usefixtures('mnist')
CATALOGUE = load_catalogue()


def reference_jobs(folder, digest):
    """Jobs of every reference request of the unit and model tests, for one submission."""
    folder.mkdir()
    inputs = Inputs(folder)
    ctx = Context(b'secret of this test', digest)
    jobs = []
    for test in CATALOGUE.tests:
        if test.uses_reference and test.data != 'train':
            for request in test.reference_requests(ctx):
                jobs.append(Job(inputs.add(test.id, request), Budget(30, 60),
                                request.answer_bytes))
    return inputs, jobs


def same(a, b):
    assert (a.error, a.meta) == (b.error, b.meta)
    assert sorted(a.arrays) == sorted(b.arrays)
    for name in a.arrays:
        assert a.arrays[name].dtype == b.arrays[name].dtype, name
        np.testing.assert_array_equal(a.arrays[name], b.arrays[name], err_msg=name)


def test_its_answers_are_a_fresh_runs_bit_for_bit_grading_after_grading(tmp_path):
    env = {'MNIST_DIR': str(paths.data_dir())}
    process = ReferenceProcess(PROBES, paths.solutions_dir(), env, tmp_path / 'home')
    fresh = Sandbox(tmp_path / 'fresh', trusted=True, limits=Limits(blas_threads=1))
    try:
        for digest in ('first submission', 'second submission'):
            inputs, jobs = reference_jobs(tmp_path / digest.replace(' ', '-'), digest)
            assert len(jobs) >= 10
            kept = process.answer(jobs)
            assert kept is not None, process.last_failure
            new = run_jobs(fresh, inputs.script, jobs, paths.solutions_dir(), env=env)
            for got, want in zip(kept, new, strict=True):
                assert got.answer.error is None
                same(got.answer, want.answer)
        assert process.starts == 1
    finally:
        process.close()
        fresh.close()


# Stand-ins for probes.py: each starts the request (an empty frame), then fails.
STARTS = "import os, sys, time\nfd = int(os.environ['SANDBOX_PAYLOAD_FD'])\n" \
         "os.write(fd, bytes(8))\n"
FAKE = {
    'hangs': STARTS + "time.sleep(60)\n",
    'exits': STARTS + "sys.exit(3)\n",
    'writes a huge frame': STARTS + "os.write(fd, (2**40).to_bytes(8, 'little'))\n"
                                    "time.sleep(60)\n",
}


@pytest.mark.parametrize('fault', sorted(FAKE))
def test_a_process_that_fails_is_stopped_and_answers_nothing(tmp_path, fault):
    script = tmp_path / 'probes.py'
    script.write_text(FAKE[fault])
    request = tmp_path / 'request.json'
    request.write_text('{}')
    process = ReferenceProcess(script, tmp_path, {}, tmp_path / 'home')
    job = Job(request, Budget(1, 1), 1000)
    try:
        assert process.answer([job]) is None
        assert process.last_failure
        assert process._proc is None  # stopped: the next grading starts a new one
        assert process.answer([job]) is None and process.starts == 2
    finally:
        process.close()


def test_a_killed_process_is_replaced_at_the_next_request(tmp_path):
    env = {'MNIST_DIR': str(paths.data_dir())}
    process = ReferenceProcess(PROBES, paths.solutions_dir(), env, tmp_path / 'home')
    try:
        jobs = reference_jobs(tmp_path / 'a', 'a')[1][:2]
        assert process.answer(jobs) is not None
        process._proc.kill()
        process._proc.wait()
        assert process.answer(jobs) is None  # this grading: a fresh run instead
        again = process.answer(jobs)
        assert again is not None and all(o.answer.error is None for o in again)
        assert process.starts == 2
    finally:
        process.close()


GRADER_THEN_KILLED = """
import sys, time
from autograder import paths
from autograder.grading.reference_process import ReferenceProcess
from autograder.grading.sandbox import Budget
from autograder.grading.sessions import Job
from autograder.grading.workspace import PROBES
process = ReferenceProcess(PROBES, paths.solutions_dir(), {}, sys.argv[1] + '/home')
assert process.answer([Job(sys.argv[2], Budget(30, 60), 10**6)]) is not None
print(process._proc.pid, flush=True)
time.sleep(120)
"""


def ended(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] in 'ZX'
    except FileNotFoundError:
        return True


def test_the_process_ends_when_its_grader_is_killed(tmp_path):
    inputs, jobs = reference_jobs(tmp_path / 'inputs', 'killed')
    grader = subprocess.Popen([sys.executable, '-c', GRADER_THEN_KILLED, str(tmp_path),
                               str(jobs[0].path)], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(grader.stdout.readline())
        assert not ended(pid)
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 20
    while not ended(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ended(pid)


def test_closing_stops_a_request_in_progress_at_once(tmp_path):
    script = tmp_path / 'probes.py'
    script.write_text(FAKE['hangs'])
    request = tmp_path / 'request.json'
    request.write_text('{}')
    process = ReferenceProcess(script, tmp_path, {}, tmp_path / 'home')
    got = []
    answering = threading.Thread(target=lambda: got.append(
        process.answer([Job(request, Budget(60, 60), 1000)])))
    answering.start()
    while process._proc is None:
        time.sleep(0.01)
    time.sleep(0.2)
    start = time.monotonic()
    process.close()
    answering.join(10)
    assert not answering.is_alive() and got == [None]
    assert time.monotonic() - start < 5  # not the request's 60 s budget
