"""`autograder grade`: grade one submission (a zip or a package folder)."""
import sys
from pathlib import Path

from .. import paths
from ..exits import EXIT_CANNOT_RUN, UsageError
from ..untrusted import name as shown
from .options import grading_options, limits, output_folder

NAME = 'grade'
HELP = "grade one submission (zip or package folder)"
DESCRIPTION = ("Grade one submission. Student code runs sandboxed; the judge compares its "
               "answers with the reference. Writes OUT/results.json (Gradescope's format) "
               "and OUT/summary.json. Exit 0 when it was graded, whatever the score; 3 when "
               "the machine or the grader failed (then nothing is scored).")
EXAMPLES = ["autograder grade submission.zip --out results/alice",
            "autograder grade student_version --out /tmp/check --only 'two_layer.*'"]


def add_arguments(parser):
    parser.add_argument('submission', help="a zip from collect_submission.sh, a package folder, "
                                           "or a folder holding one zip (Gradescope's upload)")
    parser.add_argument('--out', required=True, help="output folder")
    grading_options(parser)


def _looks_like_a_class(path):
    """A folder holding several zips or package folders (not one package)."""
    from ..grading.intake import Allowlist
    allowlist = Allowlist.read(paths.student_dir() / paths.SUBMISSION_FILES)
    if any((path / rel).exists() for rel in allowlist.required):
        return False
    zips = [p for p in path.iterdir() if p.suffix.lower() == '.zip']
    folders = [p for p in path.iterdir() if p.is_dir()
               and any((p / rel).exists() for rel in allowlist.required)]
    return len(zips) + len(folders) > 1


def run(args):
    from ..grading import report
    from ..grading.grader import Grader
    from ..grading.sandbox import Limits

    target = Path(args.submission)
    if not target.exists() and not target.is_symlink():
        raise UsageError(f"grade: {shown(target)}: no such file or folder")
    out = output_folder(args.out)
    if target.is_dir() and _looks_like_a_class(target):
        raise UsageError(f"grade: {shown(target)} holds several submissions; grade them with "
                         f"`autograder batch {shown(target)} --out DIR`")
    if target.is_dir():
        # An upload that is one zip (e.g. Gradescope's submission folder): grade the zip.
        entries = [p for p in target.iterdir() if not p.name.startswith('.')
                   and p.name != 'submission_metadata.json']
        if len(entries) == 1 and entries[0].suffix.lower() == '.zip' and entries[0].is_file():
            target = entries[0]
    with Grader(rubric_path=args.rubric, only=args.only, limits=Limits(**limits(args)),
                time_limit=args.time_limit, scaffold=args.scaffold) as grader:
        def progress(result):
            if not args.quiet and sys.stderr.isatty():
                print(f"  {result.id}: {result.score:g}/{result.max_score:g}", file=sys.stderr)
        document, summary = grader.grade(target, out, on_test=progress)
    if not args.quiet:
        report.print_table(document)
        for line in summary['protections']:
            print(f"  sandbox {line}")
        print(f"results: {shown(out / 'results.json')}")
    if summary['status'] == 'not graded':
        print(f"autograder grade: not graded: {shown(summary.get('reason'), 500)}",
              file=sys.stderr)
        return EXIT_CANNOT_RUN
    return 0
