"""The reference solution's long-lived process: one per Grader, for every grading.

A grading asks the reference about twenty requests, and answering them costs
less CPU than starting the process that answers them (Python, numpy, the
reference package: ~0.15 s). A batch worker grades hundreds of submissions,
and the reference is trusted and deterministic, so a Grader keeps one
process (probes.py reading request paths on stdin, `probes.py PACKAGE -`)
and hands it each grading's requests.

Its answers are the ones a fresh run gives: the same probes.py, the same
environment (sandbox.run_environment: one BLAS thread, hash seed 0), each
request answered on its own inputs. Anything unexpected (the process died,
a request ran past its wall-clock budget, a broken frame) stops the process
and answer() returns None: the judge then answers those requests with a
fresh run (sessions.run_jobs), so a fault here costs time, never a verdict.
The next grading starts a new process.

The process reads its stdin until it closes, so it ends with the grader
even when the grader is killed.
"""
import os
import selectors
import subprocess
import threading
import time
from pathlib import Path

from .decode import decode
from .sandbox import run_environment
from .sessions import BETWEEN, Outcome, probe_command

# The longest frame read from the reference (its largest answer is ~1 MB).
MAX_FRAME = 256 * 2**20


class Stopped(Exception):
    """The process cannot answer any more (why: the message)."""


class ReferenceProcess:
    """Answers sessions.Job lists with one reference process kept alive.

    Args:
        script: probes.py.
        package: the reference solution's folder.
        env: variables the runs need (MNIST_DIR), as for sessions.run_jobs.
        workdir: an empty folder of the grader's: the process's home and cwd.
        blas_threads: BLAS threads (the trusted sandbox's Limits.blas_threads).
    """

    def __init__(self, script, package, env, workdir, blas_threads=1):
        self.script, self.package = script, package
        self.env = dict(env or {})
        self.workdir = Path(workdir)
        self.blas_threads = blas_threads
        self.starts = 0          # processes started (a test counts them)
        self.last_failure = None  # why the last process was stopped, for the instructor
        self._proc = None
        self._frames = None      # the read end of its payload pipe
        self._selector = None    # waits on it
        self._lock = threading.Lock()

    def answer(self, jobs):
        """[sessions.Outcome] for jobs, in order, or None if the process failed."""
        with self._lock:
            try:
                if self._proc is None:
                    self._start()
                return [self._one(job) for job in jobs]
            except (Stopped, OSError, ValueError) as err:
                self.last_failure = str(err) or type(err).__name__
                self._stop()
                return None

    def close(self):
        """Stop the process, even while a request is being answered (Ctrl-C)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()  # an answer in progress then ends at once, with None
        with self._lock:
            self._stop()

    # -- inside ---------------------------------------------------------------------
    def _start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv, extra = probe_command(self.script, ['-'], self.package, self.env)
        env = run_environment(self.workdir, self.workdir, self.blas_threads)
        env.update(extra)
        read, write = os.pipe()
        env['SANDBOX_PAYLOAD_FD'] = str(write)
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          env=env, cwd=self.workdir, pass_fds=(write,))
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        self._frames = read
        self._selector = selectors.DefaultSelector()
        self._selector.register(read, selectors.EVENT_READ)
        self.starts += 1

    def _one(self, job):
        """One request's Outcome: its start frame, then its answer within its budget."""
        self._proc.stdin.write(f'{job.path}\n'.encode())
        self._proc.stdin.flush()
        if self._frame(time.monotonic() + BETWEEN.wall) != b'':
            raise Stopped("the reference process broke its protocol")
        # Only the answer: the judge reads no time or CPU of the reference's.
        payload = self._frame(time.monotonic() + job.budget.wall)
        return Outcome(decode(payload, job.answer_bytes, job.secret))

    def _frame(self, deadline):
        length = int.from_bytes(self._read(8, deadline), 'little')
        if length > MAX_FRAME:
            raise Stopped(f"the reference process wrote a frame of {length} bytes")
        return self._read(length, deadline)

    def _read(self, size, deadline):
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not self._selector.select(wait):
                raise Stopped("the reference process ran past a request's time budget")
            chunk = os.read(self._frames, min(left, 2**20))
            if not chunk:
                raise Stopped(f"the reference process ended (exit status {self._proc.poll()})")
            chunks.append(chunk)
            left -= len(chunk)
        return b''.join(chunks)

    def _stop(self):
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            try:
                self._proc.stdin.close()
            except OSError:  # a write it never read
                pass
            self._proc = None
        if self._frames is not None:
            self._selector.close()
            os.close(self._frames)
            self._frames = self._selector = None

