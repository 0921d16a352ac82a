"""Helpers of the grading tests: submissions made from the solutions, graded in-process."""
import json
import subprocess
from pathlib import Path

import yaml

from helpers import KIT, SOLUTIONS

def _required():
    from autograder.grading.intake import Allowlist
    return list(Allowlist.read(SOLUTIONS / 'submission_files.txt').required)


SUBMITTED = _required()


def inject(text, function, code):
    """Insert code at the top of a function's body (after its docstring).

    Attacks go in this way, so they do not depend on how the reference
    implements the function.
    """
    import ast
    import textwrap

    tree = ast.parse(text)
    node = next(n for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef) and n.name == function)
    first = node.body[1] if ast.get_docstring(node) and len(node.body) > 1 else node.body[0]
    lines = text.splitlines(keepends=True)
    indent = ' ' * first.col_offset
    block = textwrap.indent(textwrap.dedent(code).strip('\n') + '\n', indent)
    return ''.join(lines[:first.lineno - 1]) + block + ''.join(lines[first.lineno - 1:])


def make_submission(folder, changes=None, extra=None, drop=(), attacks=None):
    """A package folder with the solutions' submitted files, then edits.

    Args:
        changes: {relative path: [(old text, new text), ...]}; each old text
            must occur in the file (so a test never edits nothing).
        extra: {relative path: content} added as is.
        drop: relative paths left out.
        attacks: {relative path: [(function name, code)]} put at the top of
            the functions' bodies (see inject).
    """
    folder = Path(folder)
    for rel in SUBMITTED:
        if rel in drop:
            continue
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (SOLUTIONS / rel).read_text()
        for old, new in (changes or {}).get(rel, []):
            assert old in text, f"{rel}: {old!r} not found"
            text = text.replace(old, new)
        for function, code in (attacks or {}).get(rel, []):
            text = inject(text, function, code)
        target.write_text(text)
    for rel, content in (extra or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(content) if isinstance(content, str) else \
            (folder / rel).write_bytes(content)
    (folder / 'submission_files.txt').write_text(
        (SOLUTIONS / 'submission_files.txt').read_text())
    return folder


def collect(folder, out_zip):
    """Run collect_submission.sh in a package folder; return the CompletedProcess."""
    return subprocess.run(['bash', str(KIT / 'collect_submission.sh'), '-o', str(out_zip)],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def quick_rubric(tmp_path, cpu=4, keep=('plot_curves', 'data.split')):
    """The real rubric with CPU budgets capped (attack tests hit the limits sooner).

    The tests in `keep` (which start matplotlib or parse the CSV layout) keep theirs.
    """
    raw = yaml.safe_load((KIT / 'autograder' / 'rubric.yaml').read_text())
    for test_id, settings in raw['tests'].items():
        if test_id not in keep:
            settings['cpu_seconds'] = min(settings['cpu_seconds'], cpu)
    path = Path(tmp_path) / 'rubric.yaml'
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def scores(document):
    """{test id: score} of a results document."""
    return {t['name'].split(':', 1)[0]: t['score'] for t in document['tests']}


def failing(document):
    return sorted(t['name'].split(':', 1)[0] for t in document['tests']
                  if t['status'] != 'passed')


def output_of(document, test_id):
    for test in document['tests']:
        if test['name'].startswith(test_id + ':'):
            return test['output']
    raise KeyError(test_id)


def load_results(out_dir):
    return json.loads((Path(out_dir) / 'results.json').read_text())
