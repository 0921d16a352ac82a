"""Answer a list of requests with probes.py in as few sandboxed processes as possible.

One process answers the requests in order, each within its own budget. If it
dies, exits or runs over a budget, that request gets the reason and the rest
start over in a fresh process, so no request pays for another. A sandbox
that cannot start a run is retried (bounded) and, if it persists, reported
with cause 'infrastructure': never a score. A machine kept busy by other
work is retried too, but never leaves a test unscored:

- Wall-clock backstop reached: only evidence from outside the run calls the
  machine busy: the CPU time every other process used meanwhile
  (sandbox/load.py). When the others left the run less than half its share
  of the CPUs, it is retried, each time with a longer backstop, up to
  MAX_RETRIES times; a run still cut short after that is scored as failed,
  with a note saying so (cause 'busy'), never left unscored. Without that
  evidence the run was slow by itself (sleeping, a lock, a herd of its own
  processes queueing for its CPU quota): the student's, no retry.
- The sandbox could not start a run (a fork or a cgroup refused): retried
  after a pause, then 'infrastructure'.
- Two requests in a row that hang ('idle') fail the rest of the session at
  once: a submission that sleeps at import must not cost an hour.
- A deadline (the grading's time limit, e.g. Gradescope's timeout) stops the
  run that holds it and fails every request not answered by then, so the
  judge still writes its results in time.
"""
import os
import site
import sys
import time
from dataclasses import dataclass

from .decode import decode
from .libraries import allowed_modules
from .sandbox import Budget, SandboxError
from .sandbox.cores import usable_cores
from .sandbox.load import crowded_out
from ..catalogue.types import Answer

MAX_RETRIES = 2
TIME_UP = ("not run to the end: the grading's time limit ran out (the submission's code "
           "used it on this test or the ones before; see the slowest tests)")
# A retried run's wall-clock backstop is its budget's times this, per retry.
PATIENCE_PER_RETRY = 3.0


@dataclass
class Job:
    """One request to answer: its JSON file, budget, and answer size limit.

    secret: for a run that sees the secret training split, the package's
    submitted files: the answer's error text then carries nothing the code
    chose (decode.student_error); None for the other runs.
    """
    path: object
    budget: Budget
    answer_bytes: int
    secret: object = None


@dataclass
class Outcome:
    """The answer to one Job and what it cost (peak_memory: of the run that answered it)."""
    answer: Answer
    seconds: float = 0.0
    cpu: float = 0.0
    retries: int = 0
    peak_memory: object = None


_ALLOWED = {}


def probe_command(script, request_files, package, env=None):
    """(argv, env) that run probes.py on requests against a package.

    Python starts isolated and without site (-I -S): no .pth file, no
    sitecustomize, no user site runs before the probe; probes.py puts the
    interpreter's site-packages on sys.path itself ($PROBE_SITE_PACKAGES) and
    lets the code import only the student package's libraries
    ($PROBE_ALLOWED_MODULES, libraries.py).
    """
    env = dict(env or {})
    env['PROBE_SITE_PACKAGES'] = os.pathsep.join(site.getsitepackages())
    if _ALLOWED.get('modules') is None:
        _ALLOWED['modules'] = ','.join(allowed_modules() or ())
    if _ALLOWED['modules']:
        env['PROBE_ALLOWED_MODULES'] = _ALLOWED['modules']
    return [sys.executable, '-I', '-S', '-B', str(script), str(package),
            *map(str, request_files)], env


def _failure(result, job, sandbox, retries):
    """(Answer for the request that ended the run, whether to retry it)."""
    failure = result.failure()
    last = result.usage[-1] if result.usage else None
    if result.limit == 'wall' and last is not None:
        share = sandbox.limits.cpu_cores or 1.0
        if crowded_out(last.others, last.wall, usable_cores(), share):
            note = (f"the grading machine was busy with other work while this test ran (it "
                    f"left this run {max(usable_cores() * last.wall - last.others, 0):.0f} of "
                    f"{last.wall:.0f} CPU-seconds; the code computed {last.cpu:.0f} s)")
            if retries < MAX_RETRIES:
                return Answer(error=note, cause='busy'), True
            return Answer(error=f"not finished in time after {retries + 1} tries: {note}. The "
                                f"test counts as failed; ask for a regrade if you think it "
                                f"would pass", cause='busy'), False
        return Answer(error=f"the test run {failure}: the machine was not busy, so the code "
                            f"itself took that long (sleeping, waiting on a lock or a pipe, "
                            f"or processes of its own queueing for its CPU)"), False
    if result.limit == 'deadline':
        return Answer(error=TIME_UP), False
    if result.limit == 'cpu':
        return Answer(error=f"the test run {failure}: its budget is {job.budget.cpu:g} s of "
                            f"CPU time, several times what the reference needs"), False
    if failure:
        suffix = " before returning a result" if failure.startswith('exited') else ""
        return Answer(error=f"the test run {failure}{suffix}"), False
    return Answer(error=f"the test run ended (exit status {result.exit_code}) without "
                        f"returning a result: does the code exit?"), False


def _patient(budget, retries):
    """The budget of a request retried after a busy machine: a longer wall-clock backstop."""
    if not retries:
        return budget
    return Budget(budget.cpu, budget.wall * (1 + PATIENCE_PER_RETRY * retries), budget.idle)


# Python's start and the imports before the first request, and the probe's own
# bookkeeping between two requests: never student code.
BETWEEN = Budget(cpu=20.0, wall=120.0, idle=60.0)


def run_jobs(sandbox, script, jobs, package, mounts=(), env=None, deadline=None,
             on_progress=None):
    """Outcomes of jobs (list of Job), in order; never raises.

    deadline: time.monotonic() value after which nothing more runs (None: none).
    on_progress: on_progress(job index, payload) -> reply bytes or None, for
        each progress frame a request writes while it runs (see probes.py's
        training); its reply goes back to the request on the control descriptor.

    The probe writes an empty frame as each request starts and its answer
    when it ends, so when a run ends early the judge knows which request was
    running: that one gets the reason, and a run that ended between two
    requests (after an answer, before the next start) restarts without
    blaming anyone (at most MAX_RETRIES times in a row).
    """
    outcomes = [None] * len(jobs)
    done, retries, idle_in_a_row, unblamed = 0, {}, 0, 0
    while done < len(jobs):
        if deadline is not None and time.monotonic() >= deadline:
            for k in range(done, len(jobs)):
                outcomes[k] = Outcome(Answer(error=TIME_UP))
            break
        todo = jobs[done:]
        argv, child_env = probe_command(script, [j.path for j in todo], package, env)
        budgets = [b for k, j in enumerate(todo)
                   for b in (BETWEEN, _patient(j.budget, retries.get(done + k, 0)))]
        relay = None
        if on_progress is not None:
            def relay(payload, frames, first=done):
                # Two frames per request (its start, its answer): the request
                # that wrote this progress is the one after the answers so far.
                return on_progress(first + frames // 2, payload)
        try:
            result = sandbox.run(argv, mounts=mounts, env=child_env, budgets=budgets,
                                 deadline=deadline, on_progress=relay)
        except SandboxError as err:
            retries[done] = retries.get(done, 0) + 1
            if retries[done] <= MAX_RETRIES:
                time.sleep(1.0 * retries[done])
                continue
            for k in range(done, len(jobs)):
                outcomes[k] = Outcome(Answer(error=f"not graded: the sandbox could not run "
                                                   f"({err})", cause='infrastructure'))
            break
        answered = min(len(result.frames) // 2, len(todo))
        for k in range(answered):
            usage = result.usage[2 * k + 1]
            outcomes[done + k] = Outcome(decode(result.frames[2 * k + 1], todo[k].answer_bytes,
                                                todo[k].secret),
                                         usage.wall, usage.cpu, retries.get(done + k, 0),
                                         result.peak_memory)
        done += answered
        if done >= len(jobs):
            break
        started = len(result.frames) % 2 == 1  # the request after the last answer began
        if not started and result.limit is None and unblamed < MAX_RETRIES:
            unblamed += 1  # ended between two requests: nobody's answer was cut short
            continue
        unblamed = 0
        answer, retry = _failure(result, jobs[done], sandbox, retries.get(done, 0))
        if retry and retries.get(done, 0) < MAX_RETRIES:
            retries[done] = retries.get(done, 0) + 1
            continue
        last = result.usage[-1] if result.usage else None
        outcomes[done] = Outcome(answer, last.wall if last else result.seconds,
                                 last.cpu if last else 0.0, retries.get(done, 0),
                                 result.peak_memory)
        done += 1
        idle_in_a_row = idle_in_a_row + 1 if result.limit == 'idle' else 0
        if idle_in_a_row >= 2:
            for k in range(done, len(jobs)):
                outcomes[k] = Outcome(Answer(error="not run: the code hung on the two tests "
                                                   "before this one (see them)"))
            break
    return outcomes
