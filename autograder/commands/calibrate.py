"""`autograder calibrate`: accuracy bands and CPU budgets measured on the reference."""
import sys

NAME = 'calibrate'
HELP = "measure accuracy bands and CPU budgets on the reference"
DESCRIPTION = ("Train the reference through the grader's own loop once per seed (each seed "
               "its own secret training split) and derive the accuracy bands, and measure "
               "the CPU time of every test on the reference and the course-style reference "
               "to set cpu_seconds. --write records them in the rubric.")
EXAMPLES = ["autograder calibrate --seeds 8", "autograder calibrate --write"]


def add_arguments(parser):
    parser.add_argument('--seeds', type=int, default=5, help="seeds (default 5)")
    parser.add_argument('--write', action='store_true', help="update the rubric file")
    parser.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")


def run(args):
    from ..authoring.calibrate import calibrate, write_rubric
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    found = calibrate(args.rubric, args.seeds, progress)
    for test, (bands, block) in found.bands.items():
        print(f"{test}: accuracies {block['accuracies']} -> full credit from "
              f"{bands[0]['min_accuracy']}, half from {bands[1]['min_accuracy']}; epochs to "
              f"full credit {block['epochs_to_full_credit']}")
    for test, seconds in found.budgets.items():
        slow = (f", {found.slow_cpu[test]:.2f} s in the slowest correct style"
                if test in found.slow_cpu else "")
        print(f"{test}: {found.cpu[test]:.2f} s of CPU at most{slow} -> budget {seconds:g} s")
    if args.write:
        write_rubric(found.path, found.bands, found.budgets)
        print(f"updated {found.path}")
    return 0
