"""The `autograder` command: one subcommand per job, each in its own module.

Exit status, every subcommand: 0 done; 1 a check of the command failed (e.g.
`stubs --check` found drift, `mutants` missed its target); 2 bad arguments,
rubric or config; 3 the grader cannot run here (no sandbox); 130 stopped
(Ctrl-C, SIGTERM, SIGHUP) after saving what was finished.
"""
import argparse
import signal
import sys
import textwrap
from pathlib import Path

from . import __version__, paths
from .untrusted import name as shown

EXIT_CHECK, EXIT_USAGE, EXIT_CANNOT_RUN, EXIT_STOPPED = 1, 2, 3, 130


class UsageError(Exception):
    """Bad arguments: the message says which and what to do instead."""


def _output_folder(value, what='--out'):
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {shown(path)} is a file; give a folder")
    return path


def _output_file(value, what='--out'):
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{what} {shown(path)} is a folder; give a file name, e.g. "
                         f"{shown(path / 'out.zip')}")
    return path


def _memory(text):
    """Limits fields from --memory (e.g. 1.5G), or {} when not given."""
    if not text:
        return {}
    units = {'K': 2**10, 'M': 2**20, 'G': 2**30}
    raw = text.strip().upper().rstrip('B')
    try:
        size = int(float(raw[:-1]) * units[raw[-1]]) if raw[-1:] in units else int(raw)
    except (ValueError, IndexError):
        raise UsageError(f"--memory {text!r}: give a size like 1.5G or 800M") from None
    if size < 64 * 2**20:
        raise UsageError(f"--memory {text!r}: at least 64M")
    # The address-space rlimit stays below the cgroup's limit (see sandbox.Limits).
    return {'memory_bytes': size, 'address_space_bytes': size * 5 // 6}


def _limits(args, jobs=1):
    from .grading.sandbox.cores import BLAS_THREADS, worker_share
    if args.blas_threads is not None and args.blas_threads < 1:
        raise UsageError("--blas-threads must be at least 1")
    return dict(_memory(args.memory), blas_threads=args.blas_threads or BLAS_THREADS,
                cpu_cores=round(worker_share(jobs), 2))


# -- stubs ----------------------------------------------------------------------
def _cmd_stubs(args):
    from .authoring import stubs
    out = _output_folder(args.out) if args.out else paths.student_dir()
    try:
        if args.check:
            problems = stubs.check(paths.solutions_dir(), out)
            for line in problems:
                print(line, file=sys.stderr)
            if problems:
                print(f"autograder stubs --check: {len(problems)} file(s) out of date; run "
                      f"`autograder stubs` to regenerate {shown(out)}", file=sys.stderr)
                return EXIT_CHECK
            if not args.quiet:
                print(f"{shown(out)} is up to date with solutions/")
            return 0
        written = stubs.generate(paths.solutions_dir(), out)
    except stubs.StubError as err:
        raise UsageError(f"stubs: {err}") from None
    if not args.quiet:
        print(f"wrote {len(written)} files to {shown(out)}")
    return 0


# -- grade, batch ---------------------------------------------------------------
def _looks_like_a_class(path):
    """A folder holding several zips or package folders (not one package)."""
    from .grading.intake import Allowlist
    allowlist = Allowlist.read(paths.student_dir() / paths.SUBMISSION_FILES)
    if any((path / rel).exists() for rel in allowlist.required):
        return False
    zips = [p for p in path.iterdir() if p.suffix.lower() == '.zip']
    folders = [p for p in path.iterdir() if p.is_dir()
               and any((p / rel).exists() for rel in allowlist.required)]
    return len(zips) + len(folders) > 1


def _cmd_grade(args):
    from .grading import report
    from .grading.grader import Grader

    target = Path(args.submission)
    if not target.exists() and not target.is_symlink():
        raise UsageError(f"grade: {shown(target)}: no such file or folder")
    out = _output_folder(args.out)
    if target.is_dir() and _looks_like_a_class(target):
        raise UsageError(f"grade: {shown(target)} holds several submissions; grade them with "
                         f"`autograder batch {shown(target)} --out DIR`")
    if target.is_dir():
        # An upload that is one zip (e.g. Gradescope's submission folder): grade the zip.
        entries = [p for p in target.iterdir() if not p.name.startswith('.')]
        if len(entries) == 1 and entries[0].suffix.lower() == '.zip' and entries[0].is_file():
            target = entries[0]
    from .grading.sandbox import Limits
    with Grader(rubric_path=args.rubric, only=args.only, limits=Limits(**_limits(args)),
                time_limit=args.time_limit, scaffold=args.scaffold) as g:
        def progress(result):
            if not args.quiet and sys.stderr.isatty():
                print(f"  {result.id}: {result.score:g}/{result.max_score:g}", file=sys.stderr)
        document, summary = g.grade(target, out, on_test=progress)
    if not args.quiet:
        report.print_table(document)
        for line in summary['protections']:
            print(f"  sandbox {line}")
        print(f"results: {shown(out / 'results.json')}")
    if summary['status'] == 'not graded':
        print(f"autograder grade: not graded: {shown(summary.get('reason'), 500)}",
              file=sys.stderr)
        return EXIT_CANNOT_RUN
    return 0


def _cmd_batch(args):
    from .course.batch import grade_batch
    from .course.class_report import ClassReportError, flagged_tests, write_class_report
    from .course.late import Policy

    if args.jobs < 1:
        raise UsageError("-j must be at least 1")
    out = _output_folder(args.out)
    policy = Policy.from_options(args.due, args.grace, args.late_per_day, args.late_cap,
                                 args.course, args.metadata)
    policy.check_outside(args.folder)
    limits = _limits(args, args.jobs)
    interrupted = None
    try:
        document = grade_batch(args.folder, out, jobs=args.jobs, force=args.force,
                               roster_path=args.roster, rubric=args.rubric, only=args.only,
                               students=args.student, policy=policy,
                               progress=False if args.quiet else None, limits_kwargs=limits,
                               time_limit=args.time_limit, scaffold=args.scaffold)
    except KeyboardInterrupt as stop:
        interrupted = str(stop) or 'SIGINT'
        import json
        document = json.loads((out / 'batch.json').read_text())
    try:
        page = write_class_report(out)
    except (ClassReportError, OSError, RuntimeError) as err:
        page = None
        print(f"autograder batch: class report not written: {err}", file=sys.stderr)
    counts = {}
    for student in document['students']:
        counts[student['status']] = counts.get(student['status'], 0) + 1
    if not args.quiet or interrupted:
        print(', '.join(f"{n} {status}" for status, n in sorted(counts.items())))
        for problem in document['problems'][:50]:
            print(f"  {problem}")
        print(f"gradebook: {shown(out / 'gradebook.csv')}")
        if page:
            print(f"class report: {shown(page)}")
        try:
            flagged = flagged_tests(out)
        except (ClassReportError, OSError):
            flagged = []
        if flagged:
            print(f"test health: {len(flagged)} test(s) failed by most of the class; a test "
                  f"nearly everyone fails is more likely wrong than the class: read them "
                  f"before releasing grades (the class report's Test health)")
            for item in flagged:
                print(f"  {shown(item.why(), 300)}")
    if interrupted:
        print(f"autograder batch: stopped by {interrupted}; what finished is saved. Resume "
              f"with the same command: finished submissions are not graded again.",
              file=sys.stderr)
        return EXIT_STOPPED
    return 0


def _cmd_report(args):
    from .course.class_report import ClassReportError, write_class_report
    try:
        page = write_class_report(args.batch, args.out)
    except ClassReportError as err:
        raise UsageError(f"report: {err}") from None
    if not args.quiet:
        print(f"class report: {shown(page)}")
    return 0


def _cmd_similarity(args):
    from .course import similarity
    return similarity.run(args)


def _cmd_tests(args):
    from .catalogue import load_catalogue
    catalogue = load_catalogue(args.rubric)
    for test in catalogue.tests:
        spec = test.spec
        print(f"{spec.number:>2}. {spec.id}  [{spec.kind}, {spec.points:g} points, "
              f"{spec.visibility}, {spec.cpu_seconds:g} s CPU"
              f"{', reference' if test.uses_reference else ''}]")
        print(f"    {spec.title}")
        if args.verbose:
            for key, value in spec.params.items():
                if key != 'calibration':
                    print(f"      {key}: {value}")
            # Where each requirement is stated, scaffold by scaffold (scaffolds.yaml).
            for requirement in spec.requires:
                print(f"      requires {requirement}:")
                for scaffold in catalogue.scaffolds.values():
                    said = scaffold.states.get(requirement)
                    print(f"        {scaffold.name}: " + (said or "not stated: not judged "
                                                          "for this scaffold's code"))
    print(f"{len(catalogue.tests)} tests, {catalogue.total:g} points ({catalogue.path}); "
          f"scaffolds: {', '.join(catalogue.scaffolds)}")
    return 0


# -- authoring --------------------------------------------------------------------
def _cmd_course(args):
    from .authoring.nbcourse import NotebookError, make_course
    try:
        course = make_course(_output_folder(args.out), kit_root=args.kit)
    except NotebookError as err:
        raise UsageError(f"course: {err}") from None
    if not args.quiet:
        print(f"nbgrader course in {shown(course)}; next: cd {shown(course)} && "
              f"nbgrader generate_assignment hw1")
    return 0


def _cmd_release(args):
    from .authoring.release import ReleaseError, build_release
    try:
        path, count = build_release(_output_file(args.out))
    except ReleaseError as err:
        raise UsageError(f"release: {err}") from None
    if not args.quiet:
        print(f"{shown(path)} ({path.stat().st_size:,} bytes, {count} files): the student "
              f"release")
    return 0


def _cmd_gradescope_bundle(args):
    from .authoring.gradescope import build_bundle
    _memory(args.memory)
    try:
        path, count = build_bundle(_output_file(args.out), with_data=args.with_data,
                                   memory=args.memory, time_limit=args.time_limit)
    except FileNotFoundError as err:
        raise UsageError(f"gradescope-bundle: {err}") from None
    if not args.quiet:
        print(f"{shown(path)} ({path.stat().st_size:,} bytes, {count} files): upload it as "
              f"the autograder of a programming assignment on Gradescope")
    return 0


def _cmd_calibrate(args):
    from .authoring import calibrate
    return calibrate.run(args)


def _cmd_mutants(args):
    from .authoring import mutants
    return mutants.run(args)


# -- the parser -------------------------------------------------------------------------
def _add(commands, name, run, help, description, examples):
    parser = commands.add_parser(
        name, help=help, description=description,
        epilog='examples:\n' + textwrap.indent('\n'.join(examples), '  '),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(run=run)
    parser.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    return parser


def _seconds(text):
    """argparse type of --time-limit: a positive number of seconds, or 'none' (None)."""
    if text.strip().lower() == 'none':
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float('inf'):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds "
                                         f"(or 'none')")
    return value


def _grading_options(parser):
    from .grading.grader import TIME_LIMIT
    parser.add_argument('--only', action='append', metavar='GLOB',
                        help="run only the tests whose id matches (repeatable), "
                             "e.g. 'two_layer.*'")
    parser.add_argument('--scaffold', metavar='NAME',
                        help="grade by what this scaffold of autograder/scaffolds.yaml asks "
                             "(kit or course) instead of the one detected from each "
                             "submission's files")
    parser.add_argument('--time-limit', type=_seconds, default=TIME_LIMIT, metavar='SECONDS',
                        help=f"wall-clock limit of one submission's grading: student code still "
                             f"running then is stopped and its unfinished tests fail with that "
                             f"reason, so results are written in time (default {TIME_LIMIT:g}, "
                             f"as on Gradescope, so verdicts agree; 'none' for no limit)")
    parser.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")
    parser.add_argument('--memory', help="memory limit of each sandboxed run, e.g. 1.5G "
                                         "(default 3G)")
    parser.add_argument('--blas-threads', type=int, metavar='N',
                        help="BLAS threads of each sandboxed run (default 1: more gain little "
                             "for these matrices and hurt badly on a busy machine)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog='autograder',
        description="Instructor tooling of the homework kit: generate the student stubs, "
                    "grade submissions, build releases. `autograder COMMAND --help` for each.",
        epilog=__doc__.split('\n\n', 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)

    stubs = _add(commands, 'stubs', _cmd_stubs, "generate student_version/ from solutions/",
                 "Write the student package from solutions/: solution regions become TODO "
                 "stubs, the notebook is rendered by nbgrader, everything else is copied.",
                 ["autograder stubs", "autograder stubs --check"])
    stubs.add_argument('--check', action='store_true',
                       help="write nothing; exit 1 and list the files that differ from what "
                            "would be generated")
    stubs.add_argument('--out', help="the package folder (default: student_version/)")

    grade = _add(commands, 'grade', _cmd_grade, "grade one submission (zip or package folder)",
                 "Grade one submission. Student code runs sandboxed; the judge compares its "
                 "answers with the reference. Writes OUT/results.json (Gradescope's format) "
                 "and OUT/summary.json. Exit 0 when it was graded, whatever the score; 3 when "
                 "the machine or the grader failed (then nothing is scored).",
                 ["autograder grade submission.zip --out results/alice",
                  "autograder grade student_version --out /tmp/check --only 'two_layer.*'"])
    grade.add_argument('submission', help="a zip from collect_submission.sh, a package folder, "
                                          "or a folder holding one zip (Gradescope's upload)")
    grade.add_argument('--out', required=True, help="output folder")
    _grading_options(grade)

    batch = _add(commands, 'batch', _cmd_batch, "grade a folder of submissions",
                 "Grade every zip and package folder in FOLDER: OUT/submissions/<id>/..., "
                 "OUT/batch.json, OUT/gradebook.csv and OUT/report/index.html. Interrupt it "
                 "at any moment; the same command resumes.",
                 ["autograder batch submissions/ --out grades -j 2",
                  "autograder batch submissions/ --out grades --roster roster.csv "
                  "--due 2026-12-05T23:59 --late-per-day 10%",
                  "autograder batch submissions/ --out grades --student alice --student bob"])
    batch.add_argument('folder', help="the folder of submissions")
    batch.add_argument('--out', required=True, help="output folder (never inside FOLDER's "
                                                    "submissions: it is skipped there)")
    batch.add_argument('-j', '--jobs', type=int, default=1,
                       help="submissions graded at once (default 1; about one per core)")
    batch.add_argument('--force', action='store_true', help="grade everything again")
    batch.add_argument('--student', action='append', metavar='ID',
                       help="grade only this student again (repeatable); the others keep "
                            "their results, the gradebook and report are rewritten")
    batch.add_argument('--roster', help="CSV with student_id (and last_name, first_name, "
                                        "email, submission, submitted_at)")
    batch.add_argument('--metadata', metavar='DIR',
                       help="Gradescope's submission_metadata.json of each submission, saved "
                            "as DIR/<submission name>.json outside FOLDER: submission times "
                            "and due dates for late work (a file inside a submission is "
                            "never used)")
    batch.add_argument('--course', metavar='YAML',
                       help="a course file with due, grace, late_per_day, late_cap")
    batch.add_argument('--due', help="due date and time, e.g. 2026-12-05T23:59 (local) or "
                                     "with a UTC offset")
    batch.add_argument('--grace', help="grace period after the due time, e.g. 15m")
    batch.add_argument('--late-per-day', help="penalty per started day late, e.g. 10%%")
    batch.add_argument('--late-cap', help="largest late penalty, e.g. 50%% (default 100%%)")
    _grading_options(batch)

    report_cmd = _add(commands, 'report', _cmd_report, "write the class report of a batch",
                      "Write the class report (score histogram, pass rate per test, "
                      "accuracies, slowest submissions, what was not graded and why) of a "
                      "graded batch.",
                      ["autograder report grades", "autograder report grades --out /tmp/r"])
    report_cmd.add_argument('batch', help="a batch's output folder (with batch.json)")
    report_cmd.add_argument('--out', help="where to write (default: BATCH/report)")

    from .course.similarity import add_arguments
    similarity = _add(commands, 'similarity', _cmd_similarity,
                      "rank submissions by the code they share",
                      "Compare every pair of submissions by the code of their own they share "
                      "(the scaffold and passages common to the class left out; names, "
                      "comments, docstrings and spacing ignored), optionally against archives "
                      "of earlier terms, and flag code built at run time (exec/eval of "
                      "decoded text). See docs/similarity.md.",
                      ["autograder similarity submissions/ --out sim",
                       "autograder similarity submissions/ --out sim --scaffold course_skeleton/",
                       "autograder similarity submissions/ --out sim --against last_term/ "
                       "--against public/"])
    add_arguments(similarity)

    tests = _add(commands, 'tests', _cmd_tests, "list the hidden tests and their declarations",
                 "Print every hidden test of the rubric: id, kind, points, visibility, CPU "
                 "budget, title (and with -v every parameter).",
                 ["autograder tests", "autograder tests -v"])
    tests.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")
    tests.add_argument('-v', '--verbose', action='store_true', help="every parameter too")

    bundle = _add(commands, 'gradescope-bundle', _cmd_gradescope_bundle,
                  "build the zip for Gradescope's autograder",
                  "Build the zip to upload as a Gradescope autograder: setup.sh installs the "
                  "kit and MNIST in Gradescope's image and checks the reference scores full "
                  "marks; run_autograder grades /autograder/submission into "
                  "/autograder/results/results.json.",
                  ["autograder gradescope-bundle --out autograder.zip --with-data"])
    bundle.add_argument('--out', required=True, help="the zip to write")
    bundle.add_argument('--with-data', action='store_true',
                        help="put the four MNIST files in the zip (else setup.sh downloads them)")
    from .authoring.gradescope import DEFAULT_MEMORY, RESERVE_MIB
    from .grading.grader import GRADESCOPE_TIMEOUT, TIME_LIMIT
    bundle.add_argument('--memory', default=DEFAULT_MEMORY,
                        help=f"memory limit of each sandboxed run (default {DEFAULT_MEMORY}: "
                             f"Gradescope's default container has 768 MB, and the grader "
                             f"needs {RESERVE_MIB} MB beside a run; setup.sh checks the "
                             f"container has the limit plus {RESERVE_MIB} MB)")
    bundle.add_argument('--time-limit', type=_seconds, default=TIME_LIMIT,
                        metavar='SECONDS',
                        help=f"wall-clock limit of one grading (default {TIME_LIMIT:g}: "
                             f"Gradescope's default timeout is {GRADESCOPE_TIMEOUT} s for the "
                             f"whole run; raise both together)")

    course = _add(commands, 'course', _cmd_course, "make the nbgrader course folder",
                  "Write an nbgrader course (nbgrader_config.py, source/hw1/, a sandboxed "
                  "kernel) into OUT, or refresh one made before. Then: nbgrader "
                  "generate_assignment hw1, autograde, generate_feedback, export.",
                  ["autograder course --out course"])
    course.add_argument('--out', required=True, help="the course folder")
    course.add_argument('--kit', help="the kit to take the notebook and package from")

    release = _add(commands, 'release', _cmd_release, "build the zip students download",
                   "Build the student release: the generated package, get_data.sh, "
                   "collect_submission.sh, the written part's templates and a README. "
                   "Refuses when student_version/ has drifted from solutions/.",
                   ["autograder release --out hw1.zip"])
    release.add_argument('--out', required=True, help="the zip to write")

    calibrate = _add(commands, 'calibrate', _cmd_calibrate,
                     "measure accuracy bands and CPU budgets on the reference",
                     "Train the reference through the grader's own loop once per seed and "
                     "derive the accuracy bands, and measure the CPU time of every test on the "
                     "reference and the course-style reference to set cpu_seconds. --write "
                     "records them in the rubric.",
                     ["autograder calibrate --seeds 8", "autograder calibrate --write"])
    calibrate.add_argument('--seeds', type=int, default=5, help="seeds (default 5)")
    calibrate.add_argument('--write', action='store_true', help="update the rubric file")
    calibrate.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")

    mutants = _add(commands, 'mutants', _cmd_mutants,
                   "measure how many plausible bugs the tests catch",
                   "Generate mutants of the student-written code of solutions/, grade each "
                   "with the hidden tests and the visible tests, and report what survived.",
                   ["autograder mutants --quick --out mutants", "autograder mutants --out m"])
    from .authoring.mutants import add_arguments as mutant_arguments
    mutant_arguments(mutants)
    return parser


def _stop_on(signum, _):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on)
    from .catalogue.schema import RubricError
    from .course.discover import BatchError
    from .course.late import PolicyError
    from .grading.sandbox import SandboxError
    try:
        return args.run(args)
    except (UsageError, RubricError, BatchError, PolicyError, ValueError) as err:
        print(f"autograder {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SandboxError as err:
        print(f"autograder {args.command}: the sandbox cannot run: {err}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt as stop:
        print(f"autograder {args.command}: stopped ({stop or 'SIGINT'})", file=sys.stderr)
        return EXIT_STOPPED
