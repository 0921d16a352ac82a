"""Generate student_version/ from solutions/: every solution region becomes a stub.

In a solutions .py file, each piece of student work sits between two marker
lines, and opens with a TODO comment that tells the student what to do:

        # BEGIN SOLUTION
        # TODO: What to implement, with shapes.
        #   More lines of the prompt are indented comments.
        ...the reference code...
        # END SOLUTION

The generated file keeps everything outside the regions byte for byte and
turns each region into an answer region:

        loss = None                 # the region's outputs, declared first
        accuracy = None
        #----------------------------------------------------------------
        # TODO: What to implement, with shapes.
        #   More lines of the prompt are indented comments.
        #----------------------------------------------------------------
        raise NotImplementedError(
            "A.f is not implemented yet: "
            "see the TODO in a.py")
        #------------------------ END OF YOUR CODE -----------------------
        return loss, accuracy

The outputs are the names the function reads after the region that the
region itself assigns (`region_outputs`), so the code after the region never
reads a name the stub left unassigned. Other files are copied as they are.
The instructors' notebook (solutions/hw1.ipynb, written with nbgrader's
markers) becomes the notebook nbgrader releases
(autograder.authoring.notebook.render_student_notebook). `check()` reports every file of
student_version/ that differs from what `generate()` would write.
"""
import ast
import filecmp
import shutil
import tempfile
from pathlib import Path

from ..paths import NOTEBOOK, package_files

BEGIN = '# BEGIN SOLUTION'
END = '# END SOLUTION'
BANNER = '#' + '-' * 76
END_BANNER = '#' + ' END OF YOUR CODE '.center(76, '-')


class StubError(ValueError):
    """A solutions file whose markers cannot be turned into a stub."""


def _enclosing_names(tree):
    """line number -> qualified name of the innermost function around it."""
    names = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f'{prefix}.{child.name}' if prefix else child.name
                if not isinstance(child, ast.ClassDef):
                    for line in range(child.lineno, child.end_lineno + 1):
                        names[line] = qualname
                visit(child, qualname)
            else:
                visit(child, prefix)

    visit(tree, '')
    return names


def _innermost_function(tree, line):
    """The innermost function definition whose body holds the 1-based `line`."""
    found = None
    for node in ast.walk(tree):
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.lineno <= line <= node.end_lineno
                and (found is None or node.lineno > found.lineno)):
            found = node
    return found


def region_outputs(tree, begin, end):
    """The names a stub must assign for the code after its region to run.

    Args:
        tree: the module's ast.
        begin, end: 1-based line numbers of the region's two marker lines.

    Returns:
        list of the names that the enclosing function reads after `end`, that
        the region assigns, and that nothing before the region binds (not an
        argument, not an earlier assignment), in the order they are first read.
    """
    function = _innermost_function(tree, begin)
    if function is None:
        return []
    args = function.args
    bound = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    bound.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    assigned, read = set(), []
    for node in ast.walk(function):
        if not isinstance(node, ast.Name) or node is function:
            continue
        if isinstance(node.ctx, ast.Store):
            if node.lineno < begin:
                bound.add(node.id)
            elif node.lineno < end:
                assigned.add(node.id)
        elif isinstance(node.ctx, ast.Load) and node.lineno > end:
            read.append((node.lineno, node.col_offset, node.id))
    outputs = []
    for _, _, name in sorted(read):
        if name in assigned and name not in bound and name not in outputs:
            outputs.append(name)
    return outputs


def solution_regions(text, name='<source>'):
    """The (begin, end) 0-based line indexes of every marker pair in `text`.

    Raises:
        StubError: a marker without its partner, nested markers, or a region
            that does not open with a TODO prompt.
    """
    regions, begin = [], None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise StubError(f'{name}:{i + 1}: {BEGIN} inside the region opened '
                                f'on line {begin + 1}')
            begin = i
        elif marker == END:
            if begin is None:
                raise StubError(f'{name}:{i + 1}: {END} without a {BEGIN}')
            if not lines[begin + 1].strip().startswith('# TODO:'):
                raise StubError(f'{name}:{begin + 2}: a solution region must open with '
                                f'a "# TODO:" prompt for the student')
            regions.append((begin, i))
            begin = None
        elif BEGIN in line or END in line:
            raise StubError(f'{name}:{i + 1}: a marker must stand alone on its line')
    if begin is not None:
        raise StubError(f'{name}:{begin + 1}: {BEGIN} is never closed')
    return regions


def render_stub(text, name='<source>', module=''):
    """The student version of one solutions .py file.

    Args:
        text: the file's source.
        name: its path, for error messages.
        module: its path relative to the package (shown in the stubs' messages).
    """
    regions = solution_regions(text, name)
    if not regions:
        return text
    tree = ast.parse(text, name)
    functions = _enclosing_names(tree)
    lines = text.splitlines(keepends=True)
    out, last = [], 0
    for begin, end in regions:
        out.extend(lines[last:begin])
        indent = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
        prompt = []
        for line in lines[begin + 1:end]:
            stripped = line.strip()
            if not (stripped.startswith('# TODO:') or (prompt and stripped.startswith('#  '))):
                break
            prompt.append(indent + stripped + '\n')
        where = functions.get(begin + 1)
        if where is None:
            raise StubError(f'{name}:{begin + 1}: a solution region must sit inside a function')
        out.extend(f'{indent}{output} = None\n' for output in region_outputs(tree, begin + 1,
                                                                          end + 1))
        out.append(f'{indent}{BANNER}\n')
        out.extend(prompt)
        out.append(f'{indent}{BANNER}\n')
        out.append(f'{indent}raise NotImplementedError(\n'
                   f'{indent}    "{where} is not implemented yet: "\n'
                   f'{indent}    "see the TODO in {module}")\n')
        out.append(f'{indent}{END_BANNER}\n')
        last = end + 1
    out.extend(lines[last:])
    return ''.join(out)


def generate(solutions, out):
    """Write the student package for `solutions` into the folder `out`.

    `out` is emptied first, so no stale file survives.

    Returns:
        list of the relative paths written.
    """
    solutions, out = Path(solutions), Path(out)
    rendered = {}
    for rel in package_files(solutions):
        data = (solutions / rel).read_bytes()
        if rel.suffix == '.py':
            text = render_stub(data.decode('utf-8'), str(solutions / rel), rel.as_posix())
            data = text.encode('utf-8')
        elif BEGIN.encode() in data:
            raise StubError(f'{solutions / rel}: solution markers are only supported in .py files')
        rendered[rel] = data
    if (solutions / NOTEBOOK).is_file():
        rendered[Path(NOTEBOOK)] = _student_notebook(solutions / NOTEBOOK)
    if out.exists():
        shutil.rmtree(out)
    for rel, data in rendered.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
        if rel.suffix == '.py' and (solutions / rel).stat().st_mode & 0o111:
            (out / rel).chmod(0o755)
    return list(rendered)


def _notebook_key(source):
    """What the released notebook depends on: the source, the renderer, nbgrader's version."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version
    h = hashlib.sha256(Path(source).read_bytes())
    h.update((Path(__file__).parent / 'notebook.py').read_bytes())
    for package in ('nbgrader', 'nbconvert', 'nbformat'):
        try:
            h.update(version(package).encode())
        except PackageNotFoundError:
            h.update(b'absent')
    return h.hexdigest()


def _student_notebook(source):
    """The released notebook for `source`, from the cache when nothing it depends on changed.

    Rendering imports nbgrader (most of `stubs --check`'s time); the cache,
    keyed by the source's bytes, notebook.py and the versions of nbgrader,
    nbconvert and nbformat, makes a second check instant.
    """
    from .. import paths
    cached = paths.cache_dir() / 'notebooks' / f'{_notebook_key(source)}.ipynb'
    if cached.is_file():
        return cached.read_bytes()
    try:
        from .notebook import NotebookError, render_student_notebook
    except ImportError as err:
        raise StubError(f"rendering {NOTEBOOK} needs nbgrader ({err}): "
                        f"pip install -e '.[test]'") from None
    try:
        data = render_student_notebook(source)
    except NotebookError as err:
        raise StubError(str(err)) from None
    except ImportError as err:
        raise StubError(f"rendering {NOTEBOOK} needs nbgrader ({err}): "
                        f"pip install -e '.[test]'") from None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix('.part')
        tmp.write_bytes(data)
        tmp.replace(cached)
    except OSError:
        pass  # a read-only kit: render every time
    return data


def check(solutions, student):
    """Differences between `student` and what generate(solutions) would write.

    Returns:
        list of human-readable lines, one per differing, missing or extra file;
        empty when `student` is exactly up to date.
    """
    student = Path(student)
    with tempfile.TemporaryDirectory() as tmp:
        expected = Path(tmp) / 'student_version'
        wanted = set(generate(solutions, expected))
        present = set(package_files(student)) if student.is_dir() else set()
        if (student / NOTEBOOK).is_file():
            present.add(Path(NOTEBOOK))
        problems = []
        for rel in sorted(wanted | present):
            shown = f'{student.name}/{rel.as_posix()}'
            if rel not in present:
                problems.append(f'{shown}: missing')
            elif rel not in wanted:
                problems.append(f'{shown}: not generated from solutions/ (remove it, or '
                                f'add it to solutions/)')
            elif not filecmp.cmp(expected / rel, student / rel, shallow=False):
                problems.append(f'{shown}: differs from what `autograder stubs` generates')
    return problems
