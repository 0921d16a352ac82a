"""Where the kit's parts live. Every other module asks here, never guesses.

The kit root is the folder that holds `solutions/` and `student_version/`: the
parent of this package, or $AUTOGRADER_KIT when set (e.g. an installed copy of
the tool grading with a kit checked out elsewhere).
"""
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The one rubric: every hidden test's declaration (see autograder/catalogue).
RUBRIC = PACKAGE / 'rubric.yaml'
# What each scaffold students write against states (see catalogue/scaffolds.py).
SCAFFOLDS = PACKAGE / 'scaffolds.yaml'
TEMPLATES = PACKAGE / 'templates'
# The list of files a student submits, with the size limits (in each package).
SUBMISSION_FILES = 'submission_files.txt'
NOTEBOOK = 'hw1.ipynb'

# Never part of a package folder: caches and what running the code leaves.
_IGNORED_DIRS = {'__pycache__', '.pytest_cache', '.ipynb_checkpoints', 'results'}
_IGNORED_SUFFIXES = {'.pyc', '.png'}


def kit_root():
    env = os.environ.get('AUTOGRADER_KIT')
    return Path(env).resolve() if env else PACKAGE.parent


def solutions_dir():
    return kit_root() / 'solutions'


def student_dir():
    return kit_root() / 'student_version'


def data_dir():
    """The kit's MNIST folder (get_data.sh puts the four .gz files there)."""
    env = os.environ.get('MNIST_DIR')
    return Path(env).expanduser().resolve() if env else kit_root() / 'data' / 'mnist'


def cache_dir():
    """The judge's private cache: $AUTOGRADER_CACHE or build/autograder-cache in the kit."""
    env = os.environ.get('AUTOGRADER_CACHE')
    return Path(env).resolve() if env else kit_root() / 'build' / 'autograder-cache'


def package_files(root, notebook=False):
    """Relative paths of the files under `root` that belong to a package folder.

    Caches, results and figures are left out, and so is the notebook unless
    `notebook` is true (it is rendered, not copied; see authoring.stubs).
    """
    root = Path(root)
    for path in sorted(root.rglob('*')):
        rel = path.relative_to(root)
        if (path.is_file() and not _IGNORED_DIRS.intersection(rel.parts[:-1])
                and path.suffix not in _IGNORED_SUFFIXES
                and (notebook or rel.as_posix() != NOTEBOOK)):
            yield rel


def solution_module(name):
    """Import solutions/<name>.py (trusted kit code) under a private name.

    The judge uses the reference's own helpers (the MNIST loader, the config
    checker) instead of keeping second copies. Only single-file modules
    without package-relative imports qualify.
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
