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


def _cmd_grade(args):
    from . import report
    from .grade import Grader
    from .intake import IntakeError  # noqa: F401  (intake errors become results, not exits)
    from .rubric import RubricError
    from .sandbox import SandboxError

    try:
        grader = Grader(rubric_path=args.rubric, only=args.only)
    except (RubricError, ValueError) as err:
        print(f"autograder grade: {err}", file=sys.stderr)
        return 2
    with grader:
        try:
            def progress(result):
                if not args.quiet and sys.stderr.isatty():
                    print(f"  {result.id}: {result.score:g}/{result.max_score:g}",
                          file=sys.stderr)
            document, summary = grader.grade(args.submission, args.out, on_test=progress)
        except SandboxError as err:
            report.write_json_safely(args.out, report.failed_results(
                f"The grader could not run: {err}"))
            print(f"autograder grade: the sandbox cannot run: {err}", file=sys.stderr)
            return 3
    if not args.quiet:
        report.print_table(document)
        for line in summary['protections']:
            print(f"  sandbox {line}")
        print(f"results: {Path(args.out) / 'results.json'}")
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
        description="Grade one submission: its code runs sandboxed, the judge compares "
                    "its answers with the reference. Writes OUT/results.json (Gradescope's "
                    "format) and OUT/summary.json. Exit 0 when grading finished, whatever "
                    "the score; 2 bad arguments or rubric; 3 the sandbox cannot run.")
    grade.add_argument('submission', help="a zip from collect_submission.sh, or a package folder")
    grade.add_argument('--out', required=True, help="output folder for results.json")
    grade.add_argument('--only', action='append', metavar='GLOB',
                       help="run only the tests whose id matches (repeatable), e.g. 'two_layer.*'")
    grade.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")
    grade.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    grade.set_defaults(run=_cmd_grade)

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
