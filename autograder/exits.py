"""How every `autograder` subcommand ends: its exit status, and the error for bad arguments.

    0    done (a grading that ran, whatever the score)
    1    a check of the command failed (`stubs --check` found drift, `mutants`
         missed its target)
    2    bad arguments, rubric or config (UsageError and its kin)
    3    the grader cannot run here (no sandbox), or a submission was not graded
    130  stopped (Ctrl-C, SIGTERM, SIGHUP) after saving what was finished
"""
EXIT_CHECK, EXIT_USAGE, EXIT_CANNOT_RUN, EXIT_STOPPED = 1, 2, 3, 130


class UsageError(Exception):
    """Bad arguments: the message says which and what to do instead."""
