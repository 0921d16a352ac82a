"""The `autograder` command: one subcommand per instructor task.

Exit codes: 0 success (for `grade`: grading finished, whatever the scores),
1 a check failed (e.g. `stubs --check` found drift), 2 usage or setup error.
"""
import argparse
import sys
from pathlib import Path

from . import __version__, paths


def _cmd_stubs(args):
    from . import stubs

    try:
        if args.check:
            problems = stubs.check(paths.solutions_dir(), paths.student_dir())
            for line in problems:
                print(line, file=sys.stderr)
            if problems:
                print(f"autograder stubs --check: {len(problems)} file(s) out of date; "
                      f"run `autograder stubs` to regenerate student_version/", file=sys.stderr)
                return 1
            if not args.quiet:
                print("student_version/ is up to date with solutions/")
            return 0
        written = stubs.generate(paths.solutions_dir(), paths.student_dir())
    except stubs.StubError as err:
        print(f"autograder stubs: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"wrote {len(written)} files to {paths.student_dir()}")
    return 0


def _is_single_submission(path):
    """A zip, or a folder laid out like the package (not a folder of submissions)."""
    from .intake import Allowlist

    if not path.is_dir():
        return True
    allowlist = Allowlist.read(paths.student_dir() / 'submission_files.txt')
    return any((path / rel).exists() for rel in allowlist.required)


def _cmd_grade(args):
    from .rubric import RubricError
    from .sandbox import SandboxError

    target = Path(args.submission)
    if not target.exists():
        print(f"autograder grade: {target}: no such file or folder", file=sys.stderr)
        return 2
    if args.blas_threads is not None and args.blas_threads < 1:
        print("autograder grade: --blas-threads must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.single or _is_single_submission(target):
            if args.jobs != 1 or args.roster or args.force:
                print("autograder grade: -j, --roster and --force apply to a folder of "
                      "submissions", file=sys.stderr)
                return 2
            return _grade_single(args)
        return _grade_folder(args)
    except (RubricError, ValueError) as err:
        print(f"autograder grade: {err}", file=sys.stderr)
        return 2
    except SandboxError as err:
        from . import report
        report.write_json_safely(args.out, report.failed_results(
            f"The grader could not run: {err}"))
        print(f"autograder grade: the sandbox cannot run: {err}", file=sys.stderr)
        return 3


def _grade_single(args):
    from . import report
    from .grade import Grader

    target = Path(args.submission)
    if target.is_dir():
        # An upload that is one zip (e.g. Gradescope's submission folder): grade the zip.
        entries = [p for p in target.iterdir() if not p.name.startswith('.')]
        if len(entries) == 1 and entries[0].suffix.lower() == '.zip':
            args.submission = str(entries[0])

    with Grader(rubric_path=args.rubric, only=args.only, limits=_limits(args)) as grader:
        def progress(result):
            if not args.quiet and sys.stderr.isatty():
                print(f"  {result.id}: {result.score:g}/{result.max_score:g}", file=sys.stderr)
        document, summary = grader.grade(args.submission, args.out, on_test=progress)
    if not args.quiet:
        report.print_table(document)
        for line in summary['protections']:
            print(f"  sandbox {line}")
        print(f"results: {Path(args.out) / 'results.json'}")
    return 0


def _grade_folder(args):
    from .batch import grade_batch

    if args.jobs < 1:
        raise ValueError("-j must be at least 1")
    document = grade_batch(args.submission, args.out, jobs=args.jobs, force=args.force,
                           threads=args.blas_threads,
                           roster_path=args.roster, rubric=args.rubric, only=args.only,
                           progress=False if args.quiet else None,
                           limits_kwargs=_limit_kwargs(args))
    counts = {}
    for student in document['students']:
        counts[student['status']] = counts.get(student['status'], 0) + 1
    from .class_report import ClassReportError, write_class_report
    try:
        page = write_class_report(args.out)
    except (ClassReportError, OSError) as err:
        page = None
        print(f"autograder grade: class report not written: {err}", file=sys.stderr)
    if not args.quiet:
        print(', '.join(f"{n} {status}" for status, n in sorted(counts.items())))
        for problem in document['problems']:
            print(f"  {problem}")
        print(f"gradebook: {Path(args.out) / 'gradebook.csv'}")
        if page:
            print(f"class report: {page}")
    failed = counts.get('failed', 0)
    return 3 if failed and failed == sum(counts.values()) else 0


def _limit_kwargs(args):
    if not args.memory:
        return {}
    units = {'K': 2**10, 'M': 2**20, 'G': 2**30}
    text = args.memory.strip().upper().rstrip('B')
    try:
        size = int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)
    except (ValueError, IndexError):
        raise ValueError(f"--memory {args.memory!r}: give a size like 1.5G or 800M") from None
    # The address-space rlimit stays below the cgroup's limit (see sandbox.Limits).
    return {'memory_bytes': size, 'address_space_bytes': size * 5 // 6}


def _limits(args):
    """Limits of one grader alone on the machine: every core for BLAS, unless told."""
    from .sandbox import Limits, blas_threads
    return Limits(**_limit_kwargs(args), blas_threads=args.blas_threads or blas_threads(1))


def _cmd_course(args):
    from .notebook import NotebookError, make_course

    try:
        course = make_course(args.out, kit_root=args.kit)
    except NotebookError as err:
        print(f"autograder course: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"nbgrader course in {course}; next: cd {course} && "
              f"nbgrader generate_assignment hw1")
    return 0


def _cmd_release(args):
    from .release import ReleaseError, build_release

    try:
        path, count = build_release(args.out)
    except ReleaseError as err:
        print(f"autograder release: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"{path} ({path.stat().st_size:,} bytes, {count} files): the student release")
    return 0


def _cmd_calibrate(args):
    from . import calibrate
    from .grade import Grader

    seeds = list(range(args.seeds))
    with Grader(rubric_path=args.rubric, only=['accuracy.*']) as grader:
        measured = calibrate.measure(
            grader, seeds, progress=None if args.quiet else
            lambda test, seed, acc: print(f"{test} seed {seed}: {acc:.4f}", file=sys.stderr))
        updates = {test: (calibrate.bands_for(accs), calibrate.calibration_block(accs, seeds))
                   for test, accs in measured.items()}
        for test, (bands, calibration) in updates.items():
            print(f"{test}: accuracies {calibration['accuracies']} -> full credit from "
                  f"{bands[0]['min_accuracy']}, half from {bands[1]['min_accuracy']}")
        if args.write:
            calibrate.write_rubric(grader.rubric.path, updates)
            print(f"updated {grader.rubric.path}")
    return 0


def _cmd_gradescope_bundle(args):
    from .gradescope import build_bundle

    try:
        path, count = build_bundle(args.out, with_data=args.with_data, memory=args.memory)
    except FileNotFoundError as err:
        print(f"autograder gradescope-bundle: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"{path} ({path.stat().st_size:,} bytes, {count} files): upload it as the "
              f"autograder of a programming assignment on Gradescope")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog='autograder',
        description="Instructor tooling of the homework kit: generate the student "
                    "stubs, grade submissions, build releases.")
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)

    stubs = commands.add_parser(
        'stubs', help="generate student_version/ from solutions/",
        description="Write student_version/ from solutions/: solution regions become "
                    "TODO stubs, everything else is copied.")
    stubs.add_argument('--check', action='store_true',
                       help="write nothing; exit 1 and list the files of student_version/ "
                            "that differ from what would be generated")
    stubs.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    stubs.set_defaults(run=_cmd_stubs)

    grade = commands.add_parser(
        'grade', help="grade a submission (zip or folder)",
        description="Grade one submission (a zip or a package folder) or a folder of "
                    "submissions. Student code runs sandboxed; the judge compares its answers "
                    "with the reference. One submission: OUT/results.json (Gradescope's "
                    "format) and OUT/summary.json. A folder: OUT/submissions/<id>/..., "
                    "OUT/batch.json and OUT/gradebook.csv; already graded submissions are "
                    "skipped. Exit 0 when grading finished, whatever the scores; 2 bad "
                    "arguments or rubric; 3 the sandbox cannot run.")
    grade.add_argument('submission', help="a zip from collect_submission.sh, a package folder, "
                                          "or a folder of such submissions")
    grade.add_argument('--out', required=True, help="output folder for results.json")
    grade.add_argument('--only', action='append', metavar='GLOB',
                       help="run only the tests whose id matches (repeatable), e.g. 'two_layer.*'")
    grade.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")
    grade.add_argument('--single', action='store_true',
                       help="treat SUBMISSION as one submission even if it is a folder that "
                            "does not look like a package (e.g. Gradescope's upload folder)")
    grade.add_argument('-j', '--jobs', type=int, default=1,
                       help="submissions graded at once (folder of submissions; default 1)")
    grade.add_argument('--force', action='store_true',
                       help="grade again what was already graded (folder of submissions)")
    grade.add_argument('--roster', help="CSV with student_id (and last_name, first_name, email, "
                                        "submission) for a folder of submissions")
    grade.add_argument('--memory', help="memory limit of each sandboxed run, e.g. 1.5G "
                                        "(default 3G)")
    grade.add_argument('--blas-threads', type=int, metavar='N',
                       help="BLAS threads of each grader and its sandboxed runs (default: "
                            "cores // jobs, so graders never oversubscribe the CPU)")
    grade.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    grade.set_defaults(run=_cmd_grade)

    bundle = commands.add_parser(
        'gradescope-bundle', help="build the zip for Gradescope's autograder",
        description="Build the zip to upload as a Gradescope autograder: setup.sh installs "
                    "the kit and MNIST in Gradescope's image and checks the reference scores "
                    "full marks; run_autograder grades /autograder/submission into "
                    "/autograder/results/results.json. Both honour AUTOGRADER_ROOT.")
    bundle.add_argument('out', help="the zip to write, e.g. autograder.zip")
    bundle.add_argument('--with-data', action='store_true',
                        help="put the four MNIST files in the zip (else setup.sh downloads them)")
    bundle.add_argument('--memory', default='1.5G',
                        help="memory limit of each sandboxed test run (default 1.5G: choose a "
                             "Gradescope container with at least 2 GB)")
    bundle.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    bundle.set_defaults(run=_cmd_gradescope_bundle)

    course = commands.add_parser(
        'course', help="make the nbgrader course folder for the notebook",
        description="Write an nbgrader course (nbgrader_config.py, source/hw1/ = the student "
                    "package and solutions/hw1.ipynb) into OUT_DIR, or refresh one made "
                    "before (release/, submitted/, autograded/, feedback/ and the gradebook "
                    "stay). Then: nbgrader generate_assignment hw1, autograde, "
                    "generate_feedback, export.")
    course.add_argument('out', metavar='OUT_DIR', help="the course folder")
    course.add_argument('--kit', help="the kit to take the notebook and package from "
                                      "(default: this one)")
    course.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    course.set_defaults(run=_cmd_course)

    release = commands.add_parser(
        'release', help="build the zip students download",
        description="Build the student release: the generated student package (stubs, "
                    "visible tests, configs, train.py, the released notebook), get_data.sh, "
                    "collect_submission.sh, the written part's LaTeX templates (answers to "
                    "write, no solutions) and a student README. Refuses when "
                    "student_version/ has drifted from solutions/.")
    release.add_argument('out', help="the zip to write, e.g. hw1.zip")
    release.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    release.set_defaults(run=_cmd_release)

    from . import class_report, similarity
    similarity.add_parser(commands)
    class_report.add_parser(commands)

    calibrate = commands.add_parser(
        'calibrate', help="measure the accuracy thresholds on the reference solution",
        description="Train the reference through the grader's own probe once per seed and "
                    "derive the accuracy bands: full credit a margin below the lowest "
                    "accuracy seen. --write records bands and measurements in the rubric.")
    calibrate.add_argument('--seeds', type=int, default=5, help="number of seeds (default 5)")
    calibrate.add_argument('--write', action='store_true', help="update the rubric file")
    calibrate.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")
    calibrate.add_argument('-q', '--quiet', action='store_true', help="no per-run progress")
    calibrate.set_defaults(run=_cmd_calibrate)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)
