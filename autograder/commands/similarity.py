"""`autograder similarity`: rank a class's pairs of submissions by the code of their own they share."""
import argparse
import sys
from pathlib import Path

from ..course.similarity.compare import DEFAULT_THRESHOLD, SimilarityError, compare
from ..course.similarity.report import DEFAULT_TOP, write_report
from ..exits import UsageError
from ..untrusted import name as shown

NAME = 'similarity'
HELP = "rank submissions by the code they share"
DESCRIPTION = ("Compare every pair of submissions by the code of their own they share (the "
               "scaffold and passages common to the class left out; names, comments, "
               "docstrings and spacing ignored), optionally against archives of earlier "
               "terms, and flag code built at run time (exec/eval of decoded text). See "
               "docs/similarity.md.")
EXAMPLES = ["autograder similarity submissions/ --out sim",
            "autograder similarity submissions/ --out sim --scaffold course_skeleton/",
            "autograder similarity submissions/ --out sim --against last_term/ --against public/"]


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 1")
    return value


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def add_arguments(parser):
    """The `similarity` subcommand's arguments."""
    parser.add_argument('submissions', metavar='SUBMISSIONS_DIR',
                        help="folder holding one zip or folder per student")
    parser.add_argument('--out', metavar='DIR', required=True, help="output folder")
    parser.add_argument('--threshold', type=_fraction, default=DEFAULT_THRESHOLD, metavar='X',
                        help=f"flag pairs whose similarity is at least X, in [0, 1] "
                             f"(default {DEFAULT_THRESHOLD}: half of one submission's own "
                             f"code, or of one of its files, is in the other; see "
                             f"docs/similarity.md)")
    parser.add_argument('--scaffold', action='append', default=[], metavar='DIR',
                        help="more code every student received, left out of the comparison "
                             "like the kit's stubs: the .py files under DIR, e.g. the "
                             "course's skeleton or an older release (repeatable)")
    parser.add_argument('--against', action='append', default=[], metavar='ARCHIVE',
                        help="a folder of earlier terms' submissions or public solutions "
                             "(one zip or folder each): this class is compared with them, "
                             "they are never compared with each other (repeatable)")
    parser.add_argument('--top', type=_count, default=DEFAULT_TOP, metavar='N',
                        help=f"show at most N flagged pairs side by side in the report; 0 "
                             f"shows every flagged pair (default {DEFAULT_TOP})")


def run(args):
    """Run the check for parsed arguments; return the exit code (UsageError: bad input)."""
    folder = Path(args.submissions)
    for path, what in [(folder, 'SUBMISSIONS_DIR')] + \
            [(Path(p), '--scaffold') for p in args.scaffold] + \
            [(Path(p), '--against') for p in args.against]:
        if not path.is_dir():
            raise UsageError(f"{what} {shown(path)} is not a folder")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {shown(out)} exists and is not a folder")

    def progress(line):
        if not args.quiet:
            print(f"  {line}", file=sys.stderr, flush=True)

    try:
        result = compare(folder, threshold=args.threshold, scaffolds=args.scaffold,
                         archives=args.against, exclude=[out], progress=progress)
        written = write_report(result, out, top=args.top, folder=folder)
    except (SimilarityError, OSError) as err:
        raise UsageError(str(err)) from None
    if not args.quiet:
        _summary(result, written)
    return 0


def _summary(result, written):
    flagged = [p for p in result.pairs if p.flagged]
    archived = sum(bool(e.archive) for e in result.entries)
    print(f"{len(result.entries) - archived} submissions"
          f"{f', {archived} archive entries' if archived else ''}"
          f"; {result.pair_count} pairs compared in {result.seconds:.1f} s; "
          f"{len(flagged)} flagged at {result.threshold:g}")
    for p in flagged[:10]:
        # name the file when one file, not the whole submission, carries the score
        share, rel = max((p.a_file_share, p.a_file), (p.b_file_share, p.b_file))
        where = f"  (mostly {rel})" if share > max(p.a_share, p.b_share) + 0.05 else ''
        print(f"  {p.similarity:6.1%}  {p.a}  {p.b}{where}")
    if len(flagged) > 10:
        print(f"  ... {len(flagged) - 10} more in {written['csv']}")
    for e in result.entries:
        if e.status in ('unreadable', 'empty'):
            print(f"  not compared: {e.id} ({e.status}: {shown('; '.join(e.problems), 300)})")
    for e in result.entries:
        if e.runtime_code:
            print(f"  builds code at run time: {e.id} ({shown(', '.join(e.runtime_code), 200)})")
    print(f"report: {written['html']}")
