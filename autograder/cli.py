"""The `autograder` command: one subcommand per instructor task.

Exit codes: 0 success (for `grade`: grading finished, whatever the scores),
1 a check failed (e.g. `stubs --check` found drift), 2 usage or setup error.
"""
import argparse
import sys

from . import __version__, paths


def _cmd_stubs(args):
    from . import stubs

    try:
        if args.check:
            problems = stubs.check(paths.solutions_dir(), paths.student_dir())
            for line in problems:
                print(line, file=sys.stderr)
            if problems:
                print(f"autograder stubs --check: {len(problems)} file(s) out of date; "
                      f"run `autograder stubs` to regenerate student_version/", file=sys.stderr)
                return 1
            if not args.quiet:
                print("student_version/ is up to date with solutions/")
            return 0
        written = stubs.generate(paths.solutions_dir(), paths.student_dir())
    except stubs.StubError as err:
        print(f"autograder stubs: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"wrote {len(written)} files to {paths.student_dir()}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog='autograder',
        description="Instructor tooling of the homework kit: generate the student "
                    "stubs, grade submissions, build releases.")
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)

    stubs = commands.add_parser(
        'stubs', help="generate student_version/ from solutions/",
        description="Write student_version/ from solutions/: solution regions become "
                    "TODO stubs, everything else is copied.")
    stubs.add_argument('--check', action='store_true',
                       help="write nothing; exit 1 and list the files of student_version/ "
                            "that differ from what would be generated")
    stubs.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    stubs.set_defaults(run=_cmd_stubs)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)
