"""Where the kit's parts live. Every other module asks here, never guesses.

The kit root is the folder that holds `solutions/` and `student_version/`: the
parent of this package, or $AUTOGRADER_KIT when set (e.g. an installed copy of
the tool grading with a kit checked out elsewhere).
"""
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def kit_root():
    env = os.environ.get('AUTOGRADER_KIT')
    return Path(env).resolve() if env else PACKAGE.parent


def solutions_dir():
    return kit_root() / 'solutions'


def student_dir():
    return kit_root() / 'student_version'


def solution_module(name):
    """Import solutions/<name>.py (trusted kit code) under a private name.

    The judge uses the reference's own helpers (the MNIST loader, the config
    checker, the gradient-check metric) instead of keeping second copies.
    Only single-file modules without package-relative imports qualify.
    """
    import importlib.util
    import sys

    key = f'_kit_solutions_{name}'
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, solutions_dir() / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def cache_dir():
    """The judge's private cache (reference answers): $AUTOGRADER_CACHE or build/ in the kit."""
    env = os.environ.get('AUTOGRADER_CACHE')
    return Path(env).resolve() if env else kit_root() / 'build' / 'autograder-cache'
