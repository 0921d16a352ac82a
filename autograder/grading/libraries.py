"""The libraries student code may import in the sandbox: the student package's own dependencies.

The kit's `dependencies` in pyproject.toml are what the student package and
the scaffolds' given code import (numpy, PyYAML, matplotlib, tqdm,
threadpoolctl, and jaxtyping for the course's Fall 2025 skeleton). Those and
the packages they need, plus Python's standard library, are what student
code finds in the sandbox; the grader's own packages installed beside them
(nbgrader, Jupyter, ...) answer "No module named ...", as on a student's
machine set up from the README. probes.py enforces the list with an import
hook: it keeps honest code in the environment it was written for, it is no
security boundary (the sandbox is).

    allowed_modules()   sorted top-level module names, or None when unknown
"""
import re
from importlib import metadata

KIT = 'dl-homework-kit'


def _name(requirement):
    """The distribution a requirement string names, or None for an extra's requirement."""
    if 'extra ==' in requirement:
        return None
    match = re.match(r'\s*([A-Za-z0-9][A-Za-z0-9._-]*)', requirement)
    return match.group(1) if match else None


def _normal(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def allowed_modules():
    """Top-level modules of the kit's dependencies and theirs, or None (kit not installed)."""
    try:
        pending = [r for r in metadata.requires(KIT) or ()]
    except metadata.PackageNotFoundError:
        return None
    seen = set()
    while pending:
        name = _name(pending.pop())
        if name is None or _normal(name) in seen:
            continue
        seen.add(_normal(name))
        try:
            pending.extend(metadata.requires(name) or ())
        except metadata.PackageNotFoundError:
            pass  # an optional or platform-specific dependency not installed here
    modules = {module for module, dists in metadata.packages_distributions().items()
               if any(_normal(d) in seen for d in dists)}
    return sorted(m for m in modules if m.isidentifier())
