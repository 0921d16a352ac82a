"""Grade one submission end to end: intake, workspace, sandboxed tests, results.

    submission -> intake -> workspace -> judge (sandboxed probes) -> report

`grade_submission` always leaves a valid results.json in the output folder,
whatever the submission does; it raises only when the grader itself cannot
run (no sandbox, no reference data, a broken rubric).
"""
import fnmatch
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import intake, paths, report
from .hidden_tests import SEED, all_tests
from .judge import Judge, Reference
from .rubric import load_rubric
from .sandbox import Limits, Sandbox
from .workspace import GradingData, Inputs, build_package


class Grader:
    """Everything that outlives one submission: rubric, sandbox, reference, data.

    Args:
        rubric_path: the rubric YAML (default autograder/rubric.yaml).
        only: glob patterns of test ids to run (default: all).
        slot: the worker's number (picks the sandbox's uid).
        workroot: where the private working folders go (default: a new temp folder).
        limits: sandbox.Limits for every run (default: sandbox.Limits()).
    """

    def __init__(self, rubric_path=None, only=None, slot=0, workroot=None, limits=None):
        self.tests = all_tests()
        self.rubric = load_rubric(rubric_path or paths.PACKAGE / 'rubric.yaml',
                                  known_tests=list(self.tests))
        self.specs = self.select(only)
        self._own_root = workroot is None
        self.root = Path(workroot or tempfile.mkdtemp(prefix='autograder-'))
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)
        self.sandbox = Sandbox(self.root / 'sandbox', slot=slot, limits=limits or Limits())
        self.reference = Reference(self.root, paths.cache_dir() / 'reference')
        self.data = GradingData(self.root, SEED)
        self.allowlist = intake.Allowlist.read(paths.student_dir() / 'submission_files.txt')

    def select(self, only):
        """The rubric's tests whose ids match any of the glob patterns (all if None)."""
        specs = [s for s in self.rubric.tests
                 if not only or any(fnmatch.fnmatchcase(s.id, p) for p in only)]
        if not specs:
            raise ValueError(f"no test matches {', '.join(only)}; tests: "
                             f"{', '.join(t.id for t in self.rubric.tests)}")
        return specs

    def close(self):
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
            out_dir: created if needed, private to the grader (0o700).
            on_test: called with each TestResult as it finishes (progress).
            only: glob patterns narrowing this grading's tests further.

        Returns:
            (results document, summary document).
        """
        start = time.monotonic()
        stages = {}
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(out_dir, 0o700)
        try:
            submission = intake.read_submission(submission_path, self.allowlist)
        except intake.IntakeError as err:
            document = report.failed_results(
                f"The submission could not be read: {err}. Nothing was graded; "
                f"build the zip with collect_submission.sh and upload it again.",
                time.monotonic() - start)
            return self._write(out_dir, document, submission_path,
                               intake.fingerprint(submission_path, self.allowlist), stages, start)
        stages['intake'] = time.monotonic() - start

        mark = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix='submission-', dir=self.root))
        os.chmod(work, 0o711)
        try:
            package = build_package(submission, work)
            judge = Judge(self.sandbox, self.reference, Inputs(work), self.data)
            _ = self.sandbox.protections  # measured before the clock of any test
            stages['workspace'] = time.monotonic() - mark
            specs = self.select(only) if only else self.specs
            prepared = self.data.seconds
            results = judge.run_all([(self.tests[s.id], s) for s in specs], package,
                                    submission.missing, on_test=on_test)
            if self.data.seconds != prepared:  # this submission paid for the data folder
                stages['data preparation'] = self.data.seconds
            for result in results:
                stage = self.tests[result.id].stage
                stages[stage] = stages.get(stage, 0.0) + result.seconds
        finally:
            shutil.rmtree(work, ignore_errors=True)
        mark = time.monotonic()
        document = report.results_json(results, submission.notes(), time.monotonic() - start,
                                       judge.leaderboard)
        return self._write(out_dir, document, submission_path, submission.digest, stages, start,
                           report_start=mark)

    def _write(self, out_dir, document, submission_path, digest, stages, start,
               report_start=None):
        """results.json, then summary.json with the seconds of every stage.

        'report' runs from report_start (building the results) to results.json
        written; 'total' ends there too.
        """
        document['execution_time'] = round(time.monotonic() - start, 2)
        report.write_json(out_dir / 'results.json', document)
        now = time.monotonic()
        if report_start is not None:
            stages['report'] = now - report_start
        stages['total'] = now - start
        protections = self.sandbox.protections.lines() if document['tests'] else []
        summary = report.summary_json(document, submission_path, digest, protections,
                                      {k: round(v, 4) for k, v in stages.items()})
        report.write_json(out_dir / 'summary.json', summary)
        return document, summary
