"""Grade one submission end to end.

    submission -> intake -> workspace -> judge (sandboxed probes, reference) -> report

`Grader.grade` always leaves a valid results.json and summary.json in the
output folder, whatever the submission holds and whatever fails: a
submission that cannot be read scores 0 with the reason ('unreadable'); a
fault of the machine or of the grader itself (the sandbox cannot start, the
reference fails, a bug) is reported as 'not graded' with the reason, never
as a score, and a re-run grades it again. Only KeyboardInterrupt and
SystemExit (Ctrl-C, SIGTERM) pass through, after the temporary folders are
removed and every sandboxed process is killed.
"""
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from .. import paths
from ..catalogue import load_catalogue, select
from ..files import make_dir, write_json
from ..catalogue.types import Context
from . import intake, report
from .data import GradingData, Selection
from .judge import Judge
from .reference_answers import ReferenceAnswers
from .reference_process import ReferenceProcess
from .sandbox import Limits, Sandbox, SandboxError
from .secret import fingerprint, load_secret
from .workspace import PROBES, Inputs, build_package

ROOT_PREFIX = 'autograder-'
# Gradescope's default timeout is 10 minutes for a whole run_autograder; a
# grading stops student code at 8, leaving two for Python's start and for
# writing the results (a submission that spends every test's CPU budget at
# half a CPU would otherwise be killed with no results at all). `grade` and
# `batch` default to the same limit, so a class graded here gets the
# verdicts Gradescope would give.
GRADESCOPE_TIMEOUT = 600
TIME_LIMIT = GRADESCOPE_TIMEOUT - 120


def remove_stale_roots(tmp=None):
    """Temporary folders of graders that died (killed, out of memory): remove them."""
    tmp = Path(tmp or tempfile.gettempdir())
    for folder in tmp.glob(f'{ROOT_PREFIX}*-*'):
        pid = folder.name[len(ROOT_PREFIX):].split('-', 1)[0]
        if pid.isdigit() and not Path(f'/proc/{pid}').exists():
            shutil.rmtree(folder, ignore_errors=True)


def selections(catalogue):
    """The data.Selection()s of the catalogue's accuracy tests that ask for one."""
    return [Selection(t.p['model'], t.selection_params(), t.p['select_accuracy'])
            for t in catalogue.tests
            if t.spec.kind == 'accuracy' and t.p.get('select_accuracy') is not None]


class Grader:
    """Everything that outlives one submission: rubric, sandbox, reference, data.

    Args:
        rubric_path: the rubric YAML (default paths.RUBRIC).
        only: glob patterns of test ids to run (default: all).
        slot: the worker's number (where the sandbox's uid search starts).
        workroot: where the private working folders go (default: a new temp folder).
        limits: sandbox.Limits for every run.
        time_limit: wall-clock seconds one grading may take from its start
            (e.g. under Gradescope's timeout), or None. Student code still
            running then is stopped and the tests it had not finished fail
            with that reason, so results.json is always written in time.
        scaffold: the name of the scaffold (scaffolds.yaml) every submission
            is graded by, or None to detect it from each submission's files.

    Use it as a context manager (or call close()): that removes its folders
    and releases its sandbox uid.
    """

    def __init__(self, rubric_path=None, only=None, slot=0, workroot=None, limits=None,
                 time_limit=None, scaffold=None):
        self.catalogue = load_catalogue(rubric_path)
        self.tests = select(self.catalogue, only)
        self.scaffold = scaffold
        self.catalogue.scaffold(scaffold)  # an unknown name fails here, not per submission
        self.given_loader = True  # calibrate turns the stand-in off to time the given loader
        self._own_root = workroot is None
        if self._own_root:
            remove_stale_roots()
            workroot = tempfile.mkdtemp(prefix=f'{ROOT_PREFIX}{os.getpid()}-')
        self.root = Path(workroot)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)
        self.limits = limits or Limits()
        self.time_limit = time_limit
        self.secret = load_secret()
        self.data = GradingData(self.root, self.secret, selections(self.catalogue))
        # The reference's answers to requests every submission asks alike (data.split).
        self.reference_answers = ReferenceAnswers()
        self.allowlist = intake.Allowlist.read(paths.student_dir() / paths.SUBMISSION_FILES)
        self.sandbox = None
        self.reference = None
        self.reference_process = None
        self.reference_env = {'MNIST_DIR': str(paths.data_dir())}
        try:
            self.sandbox = Sandbox(self.root / 'sandbox', slot=slot, limits=self.limits)
            self.sandbox.confine(self.root)  # no other sandbox uid enters it
            self.reference = Sandbox(self.root / 'reference', trusted=True,
                                     limits=Limits(memory_bytes=self.limits.memory_bytes,
                                                   blas_threads=self.limits.blas_threads))
            # One reference process for every grading (started on first need).
            self.reference_process = ReferenceProcess(
                PROBES, paths.solutions_dir(), self.reference_env,
                self.root / 'reference-process', self.limits.blas_threads)
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.reference_process is not None:
            self.reference_process.close()
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def grade(self, submission_path, out_dir, on_test=None, only=None):
        """Grade one submission into out_dir (results.json, summary.json).

        Args:
            submission_path: a zip or a folder.
            out_dir: created if needed (files.DIR_MODE).
            on_test: called with each judge.TestResult as it is decided.
            only: glob patterns narrowing this grading's tests further.

        Returns:
            (results document, summary document).
        """
        start = time.monotonic()
        stages = {}
        out_dir = make_dir(out_dir)
        try:
            return self._grade(submission_path, out_dir, on_test, only, start, stages)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # the grader's own fault: never a score
            reason = (f"the sandbox cannot run: {err}" if isinstance(err, SandboxError)
                      else f"grader error: {type(err).__name__}: {err}")
            document = report.failed_results(
                f"Not graded: {reason}. This is not your score; the course staff has been "
                f"told and the submission will be graded again.", time.monotonic() - start)
            return self._write(out_dir, document, submission_path, '', 'not graded', stages,
                               start, reason=reason, grader_error=traceback.format_exc())

    def _grade(self, submission_path, out_dir, on_test, only, start, stages):
        try:
            submission = intake.read_submission(submission_path, self.allowlist)
        except intake.IntakeError as err:
            document = report.failed_results(
                f"The submission could not be read: {err}. Nothing was graded; build the zip "
                f"with collect_submission.sh and upload it again.", time.monotonic() - start)
            return self._write(out_dir, document, submission_path,
                               intake.fingerprint(submission_path, self.allowlist),
                               'unreadable', stages, start, reason=str(err))
        stages['intake'] = time.monotonic() - start
        mark = time.monotonic()
        protections = self.sandbox.detect()
        work = Path(tempfile.mkdtemp(prefix='submission-', dir=self.root))
        os.chmod(work, 0o711)
        try:
            package = build_package(submission, work)
            inputs = Inputs(work)
            tests = self.tests if not only else [t for t in select(self.catalogue, only)
                                                 if t in self.tests]
            prepared = self.data.seconds
            # The secret transform of the training split (built into the cache
            # on first use), only when an accuracy test will train on it.
            transform = self.data.transform if any(t.data == 'train' for t in tests) else None
            scaffold, why = self.catalogue.scaffold(self.scaffold, submission.files)
            ctx = Context(self.secret, submission.digest, train_transform=transform,
                          scaffold=scaffold,
                          reference_runs={t.id: self.data.reference_run(
                              t.p['model'], dict(t.selection_params()), t.checkpoint())
                              for t in tests if t.data == 'train'})
            deadline = start + self.time_limit if self.time_limit else None
            judge = Judge(self.sandbox, self.reference, inputs, self.data, ctx,
                          paths.solutions_dir(), self.reference_env,
                          deadline=deadline, files=submission.files,
                          given_loader=self.given_loader,
                          reference_answers=self.reference_answers,
                          reference_process=self.reference_process)
            stages['workspace'] = time.monotonic() - mark - (self.data.seconds - prepared)
            outcome = judge.run(tests, package, submission.missing, on_test=on_test)
            if self.data.seconds != prepared:  # this submission paid for the data folders
                stages['data preparation'] = self.data.seconds - prepared
            stages.update(outcome.stages)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        mark = time.monotonic()
        notes = [f"graded against {scaffold.title} ({why})", *submission.notes()]
        document = report.results_json(outcome.results, notes,
                                       time.monotonic() - start, outcome.leaderboard,
                                       outcome.not_graded)
        status = 'not graded' if outcome.not_graded else 'graded'
        extra = {}
        if outcome.not_graded:
            extra['reason'] = f"{len(outcome.not_graded)} test(s) not graded: " + \
                outcome.not_graded[0]
        if outcome.judge_errors:
            extra['judge_errors'] = outcome.judge_errors
        if outcome.busy:
            # Scored, but the instructor should know: a regrade on a quiet machine may differ.
            extra['busy'] = outcome.busy
            extra.setdefault('reason', f"graded on a busy machine: {len(outcome.busy)} test(s) "
                                       f"cut short after every retry count as failed; regrade "
                                       f"when it is quiet ({outcome.busy[0]})")
        extra['scaffold'] = scaffold.name
        return self._write(out_dir, document, submission_path, submission.digest, status,
                           stages, start, protections=protections.lines(), report_start=mark,
                           cpu={r.id: round(r.cpu, 3) for r in outcome.results},
                           peak_memory=outcome.peak_memory, **extra)

    def _write(self, out_dir, document, submission_path, digest, status, stages, start,
               protections=(), report_start=None, **extra):
        """results.json, then summary.json with the seconds of every stage.

        'report' runs from report_start (building the results) to results.json
        written; 'total' ends there too.
        """
        document['execution_time'] = round(time.monotonic() - start, 2)
        write_json(out_dir / 'results.json', document)
        now = time.monotonic()
        if report_start is not None:
            stages['report'] = now - report_start
        stages['total'] = now - start
        summary = report.summary_json(document, submission_path, digest, status,
                                      list(protections),
                                      {k: round(v, 4) for k, v in stages.items()},
                                      secret=fingerprint(self.secret), **extra)
        write_json(out_dir / 'summary.json', summary)
        return document, summary
