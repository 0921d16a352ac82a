"""Build the zip a student downloads.

    hw1/
      README.md                 how to set up, test, and submit (student_README.md)
      GRADING.md                how the parts of the homework make its grade
                                (written/GRADING.md)
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

The README's set-up is what a new student runs first, so its shape is checked
here (student_setup): a release whose README has no set-up commands or no
`sudo apt-get install` line is refused. Tests and .ci/fresh run those commands
verbatim, read by the same function.
"""
import re
from pathlib import Path

from .. import paths
from . import stubs
from .archive import write_zip

TOP = 'hw1'
README = Path(__file__).resolve().parent / 'student_README.md'
GRADING = 'GRADING.md'  # in written/; released at the top, beside README.md
WRITTEN_DOCS = ('theory.tex', 'review.tex', 'report.tex')
WRITTEN_SUPPORT = ('hwkit.sty',)
SCRIPTS = ('get_data.sh', 'collect_submission.sh')
ANSWER = '\\begin{answer}\n% Write your answer here.\n\\end{answer}'


class ReleaseError(ValueError):
    """The release cannot be built (drifted stubs, malformed LaTeX), with the reason."""


# The set-up commands: the README's first ```bash block, one command a line.
SETUP_BLOCK = re.compile(r'^```bash[ \t]*\n(.*?)^```[ \t]*$', re.S | re.M)
# What to install first: the package names after the first `sudo apt-get install`.
APT_LINE = re.compile(r'sudo apt-get install((?:[ \t]+[a-z0-9.+-]+)+)')
MAX_README_BYTES = 1 << 20


def student_setup(text=None):
    """The set-up a new student runs, exactly as the student README states it.

    Args:
        text: str, the README's text; default: student_README.md.

    Returns:
        (packages, script): the Debian/Ubuntu packages the README says to
        install first (the names after its first `sudo apt-get install`,
        options such as -y left out), a list of str; and the set-up commands
        (its first ```bash block), a str to run as one bash script from the
        release's top folder (hw1/).

    Raises:
        ReleaseError: the README lacks either, or is implausibly large.
    """
    text = README.read_text() if text is None else text
    if len(text.encode('utf-8', 'replace')) > MAX_README_BYTES:
        raise ReleaseError(f"the student README is over {MAX_README_BYTES} bytes")
    block = SETUP_BLOCK.search(text)
    if not block or not block.group(1).strip():
        raise ReleaseError("the student README has no set-up commands (a ```bash block)")
    apt = APT_LINE.search(text[:block.start()])
    packages = [w for w in (apt.group(1).split() if apt else []) if not w.startswith('-')]
    if not packages:
        raise ReleaseError("the student README names no `sudo apt-get install PACKAGE` "
                           "before its set-up commands")
    return packages, block.group(1)


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
    student_setup(README.read_text())  # refuses a README without its set-up
    yield f'{TOP}/README.md', README.read_bytes(), False
    yield f'{TOP}/{GRADING}', (kit / 'written' / GRADING).read_bytes(), False
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
