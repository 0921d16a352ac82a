"""The `autograder` command: one subcommand per job, each in its own module (commands/).

Exit status, every subcommand: 0 done; 1 a check of the command failed (e.g.
`stubs --check` found drift, `mutants` missed its target); 2 bad arguments,
rubric or config; 3 the grader cannot run here (no sandbox); 130 stopped
(Ctrl-C, SIGTERM, SIGHUP) after saving what was finished.
"""
import argparse
import signal
import sys
import textwrap

from . import __version__
from .commands import COMMANDS
from .exits import EXIT_CANNOT_RUN, EXIT_STOPPED, EXIT_USAGE, UsageError


def build_parser():
    parser = argparse.ArgumentParser(
        prog='autograder',
        description="Instructor tooling of the homework kit: generate the student stubs, "
                    "grade submissions, build releases. `autograder COMMAND --help` for each.",
        epilog=__doc__.split('\n\n', 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.NAME, help=command.HELP, description=command.DESCRIPTION,
            epilog='examples:\n' + textwrap.indent('\n'.join(command.EXAMPLES), '  '),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(run=command.run)
        sub.add_argument('-q', '--quiet', action='store_true', help="print errors only")
        command.add_arguments(sub)
    return parser


def _stop_on(signum, _):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on)
    from .catalogue.schema import RubricError
    from .course.discover import BatchError
    from .course.late import PolicyError
    from .grading.sandbox import SandboxError
    try:
        return args.run(args)
    except (UsageError, RubricError, BatchError, PolicyError, ValueError) as err:
        print(f"autograder {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SandboxError as err:
        print(f"autograder {args.command}: the sandbox cannot run: {err}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt as stop:
        print(f"autograder {args.command}: stopped ({stop or 'SIGINT'})", file=sys.stderr)
        return EXIT_STOPPED
