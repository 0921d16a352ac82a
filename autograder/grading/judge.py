"""The trusted side: run each hidden test's probes, validate the answers, score them.

The judge never imports student code. Tests run in two phases (a kind's
`phase`): the unit and model tests, whose requests depend on no verdict,
then trained accuracy, whose training follows their verdicts (the kit's SGD
when the student's failed) and which runs apart, on the secret training
split, never beside the public images. In each phase every request of every
test is answered by one sandboxed session against the student's package
(sessions.py), and the reference solution answers the same requests,
unsandboxed, in a thread beside it (the Grader's long-lived reference
process, reference_process.py, or a fresh run); the accuracy tests score
trained weights in the judge's own process (catalogue/reference.py), epoch
by epoch. Each answer is decoded within its test's size budget (decode.py)
before any test looks at it, so array subclasses, objects equal to
everything, a patched numpy in the child or text printed to stdout cannot
change a score.

Nothing a submission does makes the judge raise: a test whose check fails
on a hostile answer is a failed test, and a fault of the machine marks the
test 'not graded' (cause 'infrastructure'), never 0.
"""
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..catalogue import judge_order
from ..catalogue.types import Verdict
from .decode import decode
from .reference_answers import ReferenceAnswers, request_key
from .sandbox import Budget, Mount, WORK
from .sessions import Job, run_jobs

# What the judge tells a run that reports progress when its own handling fails:
# go on (the run is then judged on its final answer).
GO_ON = b'c'


# How long a check may take before the judge gives up on it (a grader fault).
CHECK_SECONDS = 60


class ReferenceError(RuntimeError):
    """The reference solution failed on a request: the grader is broken, not the student."""


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
    seconds: float = 0.0
    cpu: float = 0.0
    graded: bool = True

    @property
    def status(self):
        return 'passed' if self.score >= self.max_score else 'failed'


@dataclass
class Outcome:
    """Everything the judge decided about one submission."""
    results: list = field(default_factory=list)
    leaderboard: dict = field(default_factory=dict)
    not_graded: list = field(default_factory=list)   # 'test id: reason'
    busy: list = field(default_factory=list)         # 'test id: reason': scored, machine busy
    judge_errors: list = field(default_factory=list)  # tracebacks for the instructor
    stages: dict = field(default_factory=dict)
    peak_memory: dict = field(default_factory=dict)   # stage -> bytes (control group's peak)


class Judge:
    """Grades one submission's package test by test.

    Args:
        sandbox: the Sandbox that runs student code.
        reference: the trusted Sandbox that runs the reference solution.
        inputs: the workspace.Inputs to write requests into.
        data: the data.GradingData (folders built on first need).
        ctx: the catalogue Context (secret, digest, verdicts so far).
        reference_package: the reference solution's folder.
        reference_env: environment of reference runs (where the kit's MNIST is).
        deadline: time.monotonic() value after which no student code runs
            (the grading's time limit); the tests not finished by then fail
            with that reason. None: no limit. The reference is never cut short.
        files: the package's submitted files (relative paths): the only ones
            feedback may name for a run that saw secret data.
        given_loader: let the course's given CSV loader be replaced by its fast
            stand-in (probes.given_csv_loader); calibrate turns it off to
            measure what the given loader itself costs.
        reference_answers: the ReferenceAnswers kept across gradings (the
            Grader's); None: a fresh one, nothing reused.
        reference_process: the ReferenceProcess kept across gradings (the
            Grader's), tried before a fresh reference run; None: fresh runs only.
    """

    def __init__(self, sandbox, reference, inputs, data, ctx, reference_package,
                 reference_env=None, deadline=None, files=(), given_loader=True,
                 reference_answers=None, reference_process=None):
        self.reference_answers = reference_answers if reference_answers is not None \
            else ReferenceAnswers()
        self.sandbox, self.reference, self.inputs, self.data = sandbox, reference, inputs, data
        self.deadline = deadline
        self.files = frozenset(files)
        self.given_loader = given_loader
        self.ctx = ctx
        self.reference_package = reference_package
        self.reference_env = dict(reference_env or {})
        self.reference_process = reference_process

    # -- the sandbox's view of the data ---------------------------------------------
    def _mounts_and_env(self, tests, package):
        mounts = [Mount(str(self.inputs.folder)), Mount(str(package))]
        env = {}
        needed = {t.data for t in tests}
        # The prebuilt font cache for every run: code that imports pyplot at
        # its top (the course's utils.py) would otherwise build it (~1.5 s).
        fonts = self.data.fonts()
        mounts.append(Mount(str(fonts)))
        env['PROBE_MPL_CACHE'] = str(fonts)
        if 'public' in needed:
            public = self.data.public()
            mounts += [Mount(str(public)),
                       Mount(str(public / 'csv'), f'{WORK}/data'),
                       Mount(str(public / 'csv' / 'mnist_train.csv'), f'{WORK}/mnist_train.csv'),
                       Mount(str(public / 'csv' / 'mnist_test.csv'), f'{WORK}/mnist_test.csv')]
            if (Path(package) / 'data').is_dir():
                # The course's data/ folder sits in the package folder: code that
                # finds it from its own file (os.path.dirname(__file__)) sees it too.
                mounts.append(Mount(str(public / 'csv'),
                                    f"{Mount(str(package)).path_inside()}/data"))
            env['MNIST_DIR'] = str(public / 'mnist')
            if self.given_loader:
                env.update(PROBE_CSV_SAMPLE=str(public / 'given' / 'sample.csv'),
                           PROBE_CSV_TRAIN=str(public / 'csv' / 'mnist_train.csv'),
                           PROBE_CSV_IMAGES=str(public / 'given' / 'train-images.npy'),
                           PROBE_CSV_LABELS=str(public / 'given' / 'train-labels.npy'))
        if 'train' in needed:
            train = self.data.train()
            mounts.append(Mount(str(train)))
            env['PROBE_TRAIN_DIR'] = str(train)
        return mounts, env

    # -- one phase ----------------------------------------------------------------
    def _jobs(self, test, requests):
        budget = Budget.for_cpu(test.spec.cpu_seconds, self.sandbox.limits)
        secret = self.files if test.data == 'train' else None
        return [Job(self.inputs.add(test.id, r), budget, r.answer_bytes, secret)
                for r in requests]

    def _run_reference(self, jobs, box):
        try:
            outcomes = None
            if self.reference_process is not None:
                outcomes = self.reference_process.answer(jobs)
            if outcomes is None:  # it failed (or there is none): a fresh run, as ever
                outcomes = run_jobs(self.reference, self.inputs.script, jobs,
                                    self.reference_package, env=self.reference_env)
            box['outcomes'] = outcomes
        except BaseException as err:  # reported in the main thread
            box['error'] = err

    def _reference_plan(self, tests):
        """([(test, [request key])], {key: answer kept from before}, {key: Job to run}).

        A request the reference answered before (reference_answers.py) is not
        run again; one asked twice in this phase runs once.
        """
        plan, known, todo = [], {}, {}
        for test in tests:
            if not test.uses_reference:
                continue
            keys = []
            for request in test.reference_requests(self.ctx):
                key = request_key(request)
                keys.append(key)
                if key in known or key in todo:
                    continue
                kept = self.reference_answers.get(key)
                if kept is not None:
                    known[key] = kept
                else:
                    todo[key] = self._jobs(test, [request])[0]
            plan.append((test, keys))
        return plan, known, todo

    def _reference_answers(self, plan, known, todo, box):
        """{test: [Answer]} from a finished reference run; raises ReferenceError."""
        if 'error' in box:
            raise ReferenceError(f"the reference run failed: {box['error']}")
        fresh = dict(zip(todo, box.get('outcomes', [])))
        for key, job in todo.items():
            answer = fresh[key].answer
            if answer.error:
                test = next(t for t, keys in plan if key in keys)
                raise ReferenceError(f"the reference solution failed on {test.id} "
                                     f"({job.path.name}): {answer.error}")
            self.reference_answers.put(key, fresh[key])
        outcomes = {**known, **fresh}
        return {test: [outcomes[key].answer for key in keys] for test, keys in plan}

    def _phase(self, tests, package, outcome):
        student_plan = [(t, self._jobs(t, t.requests(self.ctx))) for t in tests]
        plan, known, todo = self._reference_plan(tests)
        box = {}
        thread = None
        if todo:
            thread = threading.Thread(target=self._run_reference, args=(list(todo.values()), box),
                                      daemon=True)
            thread.start()
        mounts, env = self._mounts_and_env(tests, package)
        planned = [(t, j) for t, js in student_plan for j in js]
        jobs = [j for _, j in planned]
        try:
            outcomes = run_jobs(self.sandbox, self.inputs.script, jobs, package, mounts, env,
                                deadline=self.deadline,
                                on_progress=self._progress_handler(planned, outcome))
        finally:
            if thread is not None:
                thread.join()
        got, k = {}, 0
        for test, js in student_plan:
            got[test] = outcomes[k:k + len(js)]
            k += len(js)
        return got, self._reference_answers(plan, known, todo, box)

    def _progress_handler(self, planned, outcome):
        """on_progress for run_jobs: a request's progress goes to its test's progress()."""
        if not any(hasattr(test, 'progress') for test, _ in planned):
            return None

        def handle(index, payload):
            if not 0 <= index < len(planned):
                return GO_ON
            test, job = planned[index]
            try:
                return test.progress(decode(payload, job.answer_bytes, job.secret), self.ctx)
            except Exception:
                outcome.judge_errors.append(f"{test.id} (progress):\n"
                                            f"{traceback.format_exc(limit=8)}")
                return GO_ON

        return handle

    # -- all of it ------------------------------------------------------------------
    def run(self, tests, package, missing, on_test=None):
        """Score tests (catalogue Kind instances); never raises for student code.

        Args:
            tests: the tests to run (any order; run in dependency order).
            package: the student's package folder.
            missing: required files the submission lacks.
            on_test: called with each TestResult as it is decided.

        Returns:
            Outcome, results in the order of `tests`.
        """
        outcome = Outcome()
        decided = {}
        ordered = judge_order(tests)
        for phase in sorted({t.phase for t in ordered}):
            runnable = []
            for test in (t for t in ordered if t.phase == phase):
                lacking = [f for f in test.needs() if f in missing]
                if lacking:
                    decided[test.id] = self._decide(
                        test, Verdict(0.0, f"not submitted: {', '.join(lacking)}"), [], outcome)
                else:
                    runnable.append(test)
            if not runnable:
                continue
            got, ref = self._phase(runnable, package, outcome)
            for test in runnable:  # dependency order
                decided[test.id] = self._judge(test, got[test], ref.get(test, []), outcome)
                outcome.stages[test.stage] = (outcome.stages.get(test.stage, 0.0)
                                              + decided[test.id].seconds)
                if on_test:
                    on_test(decided[test.id])
        outcome.results = [decided[t.id] for t in tests]
        return outcome

    def _judge(self, test, outcomes, ref, outcome):
        peaks = [o.peak_memory for o in outcomes if o.peak_memory]
        if peaks:
            outcome.peak_memory[test.stage] = max(outcome.peak_memory.get(test.stage, 0),
                                                  max(peaks))
        seconds = sum(o.seconds for o in outcomes)
        cpu = sum(o.cpu for o in outcomes)
        answers = [o.answer for o in outcomes]
        broken = [a for a in answers if a.cause == 'infrastructure']
        if broken:
            outcome.not_graded.append(f"{test.id}: {broken[0].error}")
            verdict = Verdict(0.0, f"NOT GRADED: {broken[0].error}. This is not your score: "
                                   f"the test will be graded again.")
            return self._decide(test, verdict, outcomes, outcome, graded=False)
        busy = [a for a in answers if a.cause == 'busy']
        if busy:
            outcome.busy.append(f"{test.id}: {busy[0].error}")
        verdict = self._unasked(test, self._check(test, answers, ref, outcome))
        return self._decide(test, verdict, outcomes, outcome, seconds=seconds, cpu=cpu)

    def _unasked(self, test, verdict):
        """A failed test whose scaffold states none of its requirements costs nothing."""
        scaffold = self.ctx.scaffold
        if verdict.passed or scaffold is None or not test.spec.requires or \
                any(scaffold.stated(r) for r in test.spec.requires):
            return verdict
        return Verdict(1.0, f"note, no points lost ({scaffold.title} does not ask for "
                            f"this): {verdict.message}", verdict.facts)

    def _check(self, test, answers, ref, outcome):
        """The test's verdict; a check that raises or hangs is a grader fault, reported."""
        if all(a.error for a in answers):
            return Verdict(0.0, str(answers[0].error))
        if not test.judges_errors:
            for answer in answers:
                if answer.error:
                    return Verdict(0.0, str(answer.error))
        try:
            with _time_limit(CHECK_SECONDS):
                verdict = test.check(answers, ref, self.ctx)
            fraction = float(verdict.fraction)
            if not 0.0 <= fraction <= 1.0:
                raise ValueError(f"fraction {fraction}")
            return verdict
        except Exception:
            outcome.judge_errors.append(f"{test.id}:\n{traceback.format_exc(limit=8)}")
            return Verdict(0.0, "the answer could not be checked (it is malformed, or the "
                                "grader failed on it; the course staff can see which)")

    def _decide(self, test, verdict, outcomes, outcome, graded=True, seconds=0.0, cpu=0.0):
        self.ctx.verdicts[test.id] = verdict
        if test.spec.leaderboard and 'accuracy' in verdict.facts and graded:
            outcome.leaderboard[test.spec.leaderboard] = verdict.facts['accuracy']
        fraction = min(max(float(verdict.fraction), 0.0), 1.0)
        return TestResult(test.id, test.spec.number, test.spec.title,
                          round(fraction * test.spec.points, 4), test.spec.points,
                          verdict.message, test.spec.visibility, seconds, cpu, graded)


class _time_limit:
    """SIGALRM after `seconds` in the main thread (elsewhere: no limit)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        import signal
        self._armed = threading.current_thread() is threading.main_thread()
        if self._armed:
            def expired(*_):
                raise TimeoutError(f"check took more than {self.seconds} s")
            self._old = signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self._armed:
            import signal
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)
