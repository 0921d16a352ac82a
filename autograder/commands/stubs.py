"""`autograder stubs`: generate student_version/ from solutions/ (or check it)."""
import sys

from .. import paths
from ..exits import EXIT_CHECK, UsageError
from ..untrusted import name as shown
from .options import output_folder

NAME = 'stubs'
HELP = "generate student_version/ from solutions/"
DESCRIPTION = ("Write the student package from solutions/: solution regions become TODO "
               "stubs, the notebook is rendered by nbgrader, everything else is copied.")
EXAMPLES = ["autograder stubs", "autograder stubs --check"]


def add_arguments(parser):
    parser.add_argument('--check', action='store_true',
                        help="write nothing; exit 1 and list the files that differ from what "
                             "would be generated")
    parser.add_argument('--out', help="the package folder (default: student_version/)")


def run(args):
    from ..authoring import stubs
    out = output_folder(args.out) if args.out else paths.student_dir()
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
