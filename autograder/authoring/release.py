"""Build the zip a student downloads.

    hw1/
      README.md                 how to set up, test, and submit (student_README.md)
      get_data.sh               fetch and verify MNIST
      collect_submission.sh     build the upload zip
      student_version/          the stubs, visible tests, configs, train.py, hw1.ipynb
      written/                  LaTeX templates of the theory, review and report

Everything comes from generated or student-facing files: student_version/ as
`autograder stubs` wrote it (checked against solutions/ first), and the
written sources with every solution environment turned into an empty answer
environment and every instructor-only or solutions-only passage removed.
Nothing of solutions/, the hidden tests, the rubric or the reference data goes
in, and the zip is byte-identical for the same inputs.
"""
import re
from pathlib import Path

from .. import paths
from . import stubs
from .archive import write_zip

TOP = 'hw1'
README = Path(__file__).resolve().parent / 'student_README.md'
WRITTEN_DOCS = ('theory.tex', 'review.tex', 'report.tex')
WRITTEN_SUPPORT = ('hwkit.sty',)
SCRIPTS = ('get_data.sh', 'collect_submission.sh')
ANSWER = '\\begin{answer}\n% Write your answer here.\n\\end{answer}'


class ReleaseError(ValueError):
    """The release cannot be built (drifted stubs, malformed LaTeX), with the reason."""


def _drop_environment(text, name, replacement):
    pattern = re.compile(r'\\begin\{' + name + r'\}(\[[^\]]*\])?.*?\\end\{' + name + r'\}', re.S)
    return pattern.sub(lambda _: replacement, text)


def _student_branches(text):
    r"""Keep only the student branch of every \ifsolutions ... \else ... \fi.

    Conditionals are matched by counting \if... and \fi, so conditionals nested
    inside a branch (e.g. \IfFileExists in the report's preamble) are fine.
    """
    token = re.compile(r'\\(ifsolutions|if[a-zA-Z@]*|else|fi)(?![a-zA-Z@])')
    out, position = [], 0
    while True:
        start = token.search(text, position)
        while start and start.group(1) != 'ifsolutions':
            start = token.search(text, start.end())
        if not start:
            out.append(text[position:])
            return ''.join(out)
        out.append(text[position:start.start()])
        depth, else_at, cursor = 1, None, start.end()
        while depth:
            match = token.search(text, cursor)
            if not match:
                raise ReleaseError(r"\ifsolutions without its \fi")
            kind = match.group(1)
            if kind == 'fi':
                depth -= 1
            elif kind == 'else':
                if depth == 1:
                    else_at = match
            else:
                depth += 1
            cursor = match.end()
        end = match
        out.append(text[else_at.end():end.start()] if else_at else '')
        position = end.end()


def latex_template(text):
    """A student's template from a written/ source: answers to write, no solutions."""
    text = _drop_environment(text, 'solution', ANSWER)
    text = _drop_environment(text, 'instructoronly', '')
    return _student_branches(text)


def _members():
    """(path in the zip, bytes, executable) of everything a student receives."""
    kit = paths.kit_root()
    problems = stubs.check(paths.solutions_dir(), paths.student_dir())
    if problems:
        raise ReleaseError("student_version/ is not up to date (run `autograder stubs`): "
                           + '; '.join(problems))
    yield f'{TOP}/README.md', README.read_bytes(), False
    for name in SCRIPTS:
        yield f'{TOP}/{name}', (kit / name).read_bytes(), True
    student = paths.student_dir()
    for rel in sorted(paths.package_files(student, notebook=True)):
        yield f'{TOP}/student_version/{rel.as_posix()}', (student / rel).read_bytes(), False
    written = kit / 'written'
    for name in WRITTEN_SUPPORT:
        yield f'{TOP}/written/{name}', (written / name).read_bytes(), False
    for name in WRITTEN_DOCS:
        text = latex_template((written / name).read_text())
        yield f'{TOP}/written/{name}', text.encode(), False


def build_release(out_zip):
    """Write the student release zip; return (path, number of files)."""
    members = sorted(_members())
    return write_zip(out_zip, members), len(members)
