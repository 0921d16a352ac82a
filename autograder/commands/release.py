"""`autograder release`: the zip students download."""
from ..exits import UsageError
from ..untrusted import name as shown
from .options import output_file

NAME = 'release'
HELP = "build the zip students download"
DESCRIPTION = ("Build the student release: the generated package, get_data.sh, "
               "collect_submission.sh, the written part's templates, GRADING.md and a README. "
               "Refuses when student_version/ has drifted from solutions/.")
EXAMPLES = ["autograder release --out hw1.zip"]


def add_arguments(parser):
    parser.add_argument('--out', required=True, help="the zip to write")


def run(args):
    from ..authoring.release import ReleaseError, build_release
    try:
        path, count = build_release(output_file(args.out))
    except ReleaseError as err:
        raise UsageError(f"release: {err}") from None
    if not args.quiet:
        print(f"{shown(path)} ({path.stat().st_size:,} bytes, {count} files): the student "
              f"release")
    return 0
