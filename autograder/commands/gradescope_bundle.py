"""`autograder gradescope-bundle`: the zip to upload as a Gradescope autograder."""

from ..exits import UsageError
from ..untrusted import name as shown
from .options import memory, output_file, seconds

NAME = 'gradescope-bundle'
HELP = "build the zip for Gradescope's autograder"
DESCRIPTION = ("Build the zip to upload as a Gradescope autograder: setup.sh installs the "
               "kit and MNIST in Gradescope's image and checks the reference scores full "
               "marks; run_autograder grades /autograder/submission into "
               "/autograder/results/results.json.")
EXAMPLES = ["autograder gradescope-bundle --out autograder.zip --with-data"]


def add_arguments(parser):
    from ..authoring.gradescope import DEFAULT_MEMORY, RESERVE_MIB
    from ..grading.grader import GRADESCOPE_TIMEOUT, TIME_LIMIT
    parser.add_argument('--out', required=True, help="the zip to write")
    parser.add_argument('--with-data', action='store_true',
                        help="put the four MNIST files in the zip (else setup.sh downloads them)")
    parser.add_argument('--memory', default=DEFAULT_MEMORY,
                        help=f"memory limit of each sandboxed run (default {DEFAULT_MEMORY}: "
                             f"Gradescope's default container has 768 MB, and the grader "
                             f"needs {RESERVE_MIB} MB beside a run; setup.sh checks the "
                             f"container has the limit plus {RESERVE_MIB} MB)")
    parser.add_argument('--time-limit', type=seconds, default=TIME_LIMIT, metavar='SECONDS',
                        help=f"wall-clock limit of one grading (default {TIME_LIMIT:g}: "
                             f"Gradescope's default timeout is {GRADESCOPE_TIMEOUT} s for the "
                             f"whole run; raise both together)")
    parser.add_argument('--scaffold', metavar='NAME',
                        help="grade every submission by this scaffold of scaffolds.yaml "
                             "(default: detected per submission)")


def run(args):
    from ..authoring.gradescope import build_bundle
    from ..catalogue import load_catalogue
    memory(args.memory)
    if args.scaffold is not None:
        load_catalogue().scaffold(args.scaffold)  # an unknown name: an error now
    try:
        path, count = build_bundle(output_file(args.out), with_data=args.with_data,
                                   memory=args.memory, time_limit=args.time_limit,
                                   scaffold=args.scaffold)
    except FileNotFoundError as err:
        raise UsageError(f"gradescope-bundle: {err}") from None
    if not args.quiet:
        print(f"{shown(path)} ({path.stat().st_size:,} bytes, {count} files): upload it as "
              f"the autograder of a programming assignment on Gradescope")
    return 0


