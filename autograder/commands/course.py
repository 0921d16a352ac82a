"""`autograder course`: make (or refresh) the nbgrader course folder."""
from ..exits import UsageError
from ..untrusted import name as shown
from .options import output_folder

NAME = 'course'
HELP = "make the nbgrader course folder"
DESCRIPTION = ("Write an nbgrader course (nbgrader_config.py, source/hw1/, a sandboxed "
               "kernel) into OUT, or refresh one made before. Then: nbgrader "
               "generate_assignment hw1, autograde, generate_feedback, export.")
EXAMPLES = ["autograder course --out course"]


def add_arguments(parser):
    parser.add_argument('--out', required=True, help="the course folder")
    parser.add_argument('--kit', help="the kit to take the notebook and package from")


def run(args):
    from ..authoring.nbcourse import NotebookError, make_course
    try:
        course = make_course(output_folder(args.out), kit_root=args.kit)
    except NotebookError as err:
        raise UsageError(f"course: {err}") from None
    if not args.quiet:
        print(f"nbgrader course in {shown(course)}; next: cd {shown(course)} && "
              f"nbgrader generate_assignment hw1")
    return 0
