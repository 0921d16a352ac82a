"""`autograder report`: write (again) the class report of a graded batch."""
from ..exits import UsageError
from ..untrusted import name as shown

NAME = 'report'
HELP = "write the class report of a batch"
DESCRIPTION = ("Write the class report (score histogram, every test's pass rate and health, "
               "accuracies, slowest submissions, what was not graded and why) of a graded "
               "batch.")
EXAMPLES = ["autograder report grades", "autograder report grades --out /tmp/r"]


def add_arguments(parser):
    parser.add_argument('batch', help="a batch's output folder (with batch.json)")
    parser.add_argument('--out', help="where to write (default: BATCH/report)")


def run(args):
    from ..course.class_report import ClassReportError, write_class_report
    try:
        page = write_class_report(args.batch, args.out)
    except ClassReportError as err:
        raise UsageError(f"report: {err}") from None
    if not args.quiet:
        print(f"class report: {shown(page)}")
    return 0
