"""Paths and helpers shared by the kit's own tests.

The solutions package is put on the import path, so `import models`,
`import utils` ... give the reference code. The student stubs are only ever run
in subprocesses, where they cannot shadow it.
"""
import os
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
SOLUTIONS = KIT / 'solutions'
STUDENT = KIT / 'student_version'
DATA = KIT / 'data' / 'mnist'
if str(SOLUTIONS) not in sys.path:
    sys.path.insert(0, str(SOLUTIONS))


def run(cmd, cwd=KIT, env=None, timeout=600, check=False):
    """Run a command; return the CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} exited {result.returncode}\n{result.stdout}\n"
                             f"{result.stderr}")
    return result


def solution_lines():
    """(relative path, stripped line) of every code line inside a solution region."""
    from autograder.authoring.stubs import solution_regions

    for path in sorted(SOLUTIONS.rglob('*.py')):
        text = path.read_text()
        lines = text.splitlines()
        regions = solution_regions(text, str(path))
        inside = {i for b, e in regions for i in range(b + 1, e)}
        outside = {lines[i].strip() for i in range(len(lines)) if i not in inside}
        for i in sorted(inside):
            line = lines[i].strip()
            # TODO prompts are meant to reach students; lines that also stand
            # outside the regions (e.g. `return loss`) prove nothing.
            if line and not line.startswith('#') and line not in outside:
                yield path.relative_to(SOLUTIONS), line
