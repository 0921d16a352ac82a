"""`autograder mutants`: how many plausible bugs the hidden and visible tests catch."""
import sys

from .. import paths
from ..exits import EXIT_CHECK, EXIT_STOPPED, UsageError
from .options import output_folder

NAME = 'mutants'
HELP = "measure how many plausible bugs the tests catch"
DESCRIPTION = ("Generate mutants of the student-written code of solutions/, grade each "
               "with the hidden tests and the visible tests, and report what survived.")
EXAMPLES = ["autograder mutants --quick --out mutants", "autograder mutants --out m"]


def add_arguments(parser):
    from ..authoring.mutants import QUICK
    parser.add_argument('--out', help="output folder (mutants.json, index.html); required "
                                      "unless --list")
    parser.add_argument('--quick', action='store_true',
                        help=f"only the fixed sample of {len(QUICK)} mutants (QUICK in "
                             f"autograder/authoring/mutants.py)")
    parser.add_argument('--match', action='append', metavar='GLOB',
                        help="only mutants whose id matches (repeatable), e.g. "
                             "'optimizer/*' or '*:accumulate:*'")
    parser.add_argument('--list', action='store_true', help="print the mutants and exit")
    parser.add_argument('--rubric', help="rubric YAML (default: autograder/rubric.yaml)")


def run(args):
    """The exit status: 0 when the hidden tests kill enough mutants, 1 when not."""
    from ..authoring import mutate
    from ..authoring.mutants import print_report, run_mutants, select, write_report
    generated = mutate.generate(paths.solutions_dir())
    chosen = select(generated, args.quick, args.match)
    if args.list:
        for m in chosen:
            print(f"{m.id}\n    {m.summary()}")
        print(f"{len(chosen)} mutant(s)")
        return 0
    if not args.out:
        raise UsageError("mutants: give --out DIR (or --list)")
    out = output_folder(args.out)

    def progress(k, total, entry):
        if not args.quiet:
            killers = ', '.join(entry['hidden']['killed_by']) or '-'
            print(f"[{k}/{total}] {entry['status']:<10} {entry['id']}  "
                  f"({entry['seconds']:.1f} s; {killers})", file=sys.stderr, flush=True)

    document = run_mutants(chosen, generated, args.rubric, args.quick, progress)
    json_path, page = write_report(document, out)
    if not args.quiet:
        print_report(document)
        print(f"report: {json_path}, {page}")
    if document.get('interrupted'):
        return EXIT_STOPPED
    return 0 if document['totals']['target_met'] else EXIT_CHECK
