"""`autograder batch`: grade a folder of submissions into a gradebook and a class report."""
import json
import sys

from ..exits import EXIT_STOPPED, UsageError
from ..untrusted import name as shown
from .options import grading_options, limits, output_folder

NAME = 'batch'
HELP = "grade a folder of submissions"
DESCRIPTION = ("Grade every zip and package folder in FOLDER: OUT/submissions/<id>/..., "
               "OUT/batch.json, OUT/gradebook.csv and OUT/report/index.html, and name any "
               "test most of the class failed (test health). Interrupt it at any moment; "
               "the same command resumes.")
EXAMPLES = ["autograder batch submissions/ --out grades -j 2",
            "autograder batch submissions/ --out grades --roster roster.csv "
            "--due 2026-12-05T23:59 --late-per-day 10%",
            "autograder batch submissions/ --out grades --student alice --student bob"]


def add_arguments(parser):
    parser.add_argument('folder', help="the folder of submissions")
    parser.add_argument('--out', required=True, help="output folder (never inside FOLDER's "
                                                     "submissions: it is skipped there)")
    parser.add_argument('-j', '--jobs', type=int, default=1,
                        help="submissions graded at once (default 1; about one per core)")
    parser.add_argument('--force', action='store_true', help="grade everything again")
    parser.add_argument('--student', action='append', metavar='ID',
                        help="grade only this student again (repeatable); the others keep "
                             "their results, the gradebook and report are rewritten")
    parser.add_argument('--roster', help="CSV with student_id (and last_name, first_name, "
                                         "email, submission, submitted_at)")
    parser.add_argument('--metadata', metavar='DIR',
                        help="Gradescope's submission_metadata.json of each submission, saved "
                             "as DIR/<submission name>.json outside FOLDER: submission times "
                             "and due dates for late work (a file inside a submission is "
                             "never used)")
    parser.add_argument('--course', metavar='YAML',
                        help="a course file with due, grace, late_per_day, late_cap")
    parser.add_argument('--due', help="due date and time, e.g. 2026-12-05T23:59 (local) or "
                                      "with a UTC offset")
    parser.add_argument('--grace', help="grace period after the due time, e.g. 15m")
    parser.add_argument('--late-per-day', help="penalty per started day late, e.g. 10%%")
    parser.add_argument('--late-cap', help="largest late penalty, e.g. 50%% (default 100%%)")
    grading_options(parser)


def run(args):
    from ..course.batch import grade_batch
    from ..course.class_report import ClassReportError, flagged_tests, write_class_report
    from ..course.late import Policy

    if args.jobs < 1:
        raise UsageError("-j must be at least 1")
    out = output_folder(args.out)
    policy = Policy.from_options(args.due, args.grace, args.late_per_day, args.late_cap,
                                 args.course, args.metadata)
    policy.check_outside(args.folder)
    interrupted = None
    try:
        document = grade_batch(args.folder, out, jobs=args.jobs, force=args.force,
                               roster_path=args.roster, rubric=args.rubric, only=args.only,
                               students=args.student, policy=policy,
                               progress=False if args.quiet else None,
                               limits_kwargs=limits(args, args.jobs),
                               time_limit=args.time_limit, scaffold=args.scaffold)
    except KeyboardInterrupt as stop:
        interrupted = str(stop) or 'SIGINT'
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
        print_health(out, flagged_tests, ClassReportError)
    if interrupted:
        print(f"autograder batch: stopped by {interrupted}; what finished is saved. Resume "
              f"with the same command: finished submissions are not graded again.",
              file=sys.stderr)
        return EXIT_STOPPED
    return 0


def print_health(out, flagged_tests, error):
    """The last lines: every test most of the class failed (course/health.py)."""
    try:
        flagged = flagged_tests(out)
    except (error, OSError):
        return
    if flagged:
        print(f"test health: {len(flagged)} test(s) failed by most of the class; a test "
              f"nearly everyone fails is more likely wrong than the class: read them "
              f"before releasing grades (the class report's Test health)")
        for item in flagged:
            print(f"  {shown(item.why(), 300)}")
