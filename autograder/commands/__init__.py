"""The `autograder` subcommands: one module each, in the order `autograder --help` lists them.

Every module has the same face: NAME, HELP (one line), DESCRIPTION,
EXAMPLES, add_arguments(parser) and run(args) -> exit status (autograder/
exits.py); a bad argument raises exits.UsageError. They parse and print;
the work is done by the packages of the flow (catalogue, grading, course,
authoring), which never import from here; commands may import any of them.
options.py holds what several share. The modules: stubs, grade, batch,
report, similarity, tests, gradescope_bundle, course, release, calibrate,
mutants.
"""
from . import (batch, calibrate, course, grade, gradescope_bundle, mutants, release, report,
               similarity, stubs, tests)

COMMANDS = (stubs, grade, batch, report, similarity, tests, gradescope_bundle, course, release,
            calibrate, mutants)
