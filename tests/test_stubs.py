"""student_version/ is generated from solutions/ and never drifts from it."""
import ast
import builtins
import shutil
import sys

import pytest

from autograder.authoring import stubs
from helpers import KIT, SOLUTIONS, STUDENT, run, solution_lines


def test_student_version_is_up_to_date():
    result = run([sys.executable, '-m', 'autograder', 'stubs', '--check'])
    assert result.returncode == 0, result.stderr


@pytest.fixture
def kit_copy(tmp_path):
    """A copy of solutions/ and student_version/ the test may damage."""
    for name in ('solutions', 'student_version'):
        shutil.copytree(KIT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns('__pycache__', 'results'))
    return tmp_path


def check_copy(kit):
    return run([sys.executable, '-m', 'autograder', 'stubs', '--check'],
               env={'AUTOGRADER_KIT': str(kit)})


def test_check_fails_on_one_changed_byte(kit_copy):
    target = kit_copy / 'student_version' / 'optimizer' / 'sgd.py'
    data = bytearray(target.read_bytes())
    data[-2] ^= 1
    target.write_bytes(bytes(data))
    result = check_copy(kit_copy)
    assert result.returncode == 1
    assert 'student_version/optimizer/sgd.py: differs' in result.stderr


def test_check_fails_on_missing_and_extra_files(kit_copy):
    (kit_copy / 'student_version' / 'utils.py').unlink()
    (kit_copy / 'student_version' / 'models' / 'extra.py').write_text('x = 1\n')
    result = check_copy(kit_copy)
    assert result.returncode == 1
    assert 'student_version/utils.py: missing' in result.stderr
    assert 'student_version/models/extra.py: not generated' in result.stderr


@pytest.mark.slow
def test_check_fails_when_solutions_change(kit_copy):
    target = kit_copy / 'solutions' / 'config.py'
    target.write_text(target.read_text() + '\n# a new line\n')
    result = check_copy(kit_copy)
    assert result.returncode == 1 and 'student_version/config.py: differs' in result.stderr
    assert run([sys.executable, '-m', 'autograder', 'stubs', '-q'],
               env={'AUTOGRADER_KIT': str(kit_copy)}).returncode == 0
    assert check_copy(kit_copy).returncode == 0


def test_no_solution_line_or_marker_survives():
    found = list(solution_lines())
    assert len(found) > 40, "the solutions should hold the assignment's regions"
    for rel, line in found:
        code = {s.strip() for s in (STUDENT / rel).read_text().splitlines()
                if not s.strip().startswith('#')}
        assert line not in code, f"{rel}: solution line {line!r} is in student_version"
    for path in STUDENT.rglob('*.py'):
        assert 'SOLUTION' not in path.read_text(), f"{path}: a marker survived"


def test_every_stub_raises_not_implemented_and_parses():
    for path in STUDENT.rglob('*.py'):
        ast.parse(path.read_text(), str(path))
    regions = sum(len(stubs.solution_regions(p.read_text())) for p in SOLUTIONS.rglob('*.py'))
    raises = sum(p.read_text().count('raise NotImplementedError(\n')
                 for p in STUDENT.rglob('*.py'))
    assert raises == regions


def test_stubs_import_cleanly():
    code = ('from models import SoftmaxRegression, TwoLayerNet\n'
            'from optimizer import SGD\n'
            'from utils import load_mnist_trainval, load_mnist_test, generate_batched_data, '
            'train, evaluate, plot_curves\n'
            'import train, config, gradcheck\n'
            'SoftmaxRegression(); TwoLayerNet(); SGD()\n')
    result = run([sys.executable, '-c', code], cwd=STUDENT)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize('source, message', [
    ('def f():\n    # BEGIN SOLUTION\n    # TODO: x\n    return 1\n', 'never closed'),
    ('def f():\n    # END SOLUTION\n', 'without a'),
    ('def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n', 'TODO'),
    ('# BEGIN SOLUTION\n# TODO: x\nx = 1\n# END SOLUTION\n', 'inside a function'),
    ('def f():\n    # BEGIN SOLUTION\n    # TODO: a\n    # BEGIN SOLUTION\n', 'inside the region'),
])
def test_malformed_markers_are_reported_with_their_line(source, message):
    with pytest.raises(stubs.StubError, match=message):
        stubs.render_stub(source, 'f.py')


def test_render_keeps_the_rest_byte_for_byte():
    source = ('import numpy as np\n\n\nclass A:\n    def f(self, x):\n'
              '        """Doc."""\n        # BEGIN SOLUTION\n        # TODO: Double x.\n'
              '        #   Shapes: (N,) -> (N,).\n        y = 2 * x\n        # END SOLUTION\n'
              '        return y\n')
    out = stubs.render_stub(source, 'a.py', 'a.py')
    assert out.startswith('import numpy as np\n\n\nclass A:\n    def f(self, x):\n'
                          '        """Doc."""\n')
    assert '        # TODO: Double x.\n        #   Shapes: (N,) -> (N,).\n' in out
    assert 'y = 2 * x' not in out and out.endswith('        return y\n')
    namespace = {}
    exec(compile(out, 'a.py', 'exec'), namespace)
    with pytest.raises(NotImplementedError,
                       match='^A.f is not implemented yet: see the TODO in a.py$'):
        namespace['A']().f(1)


# --- the shape of every answer region ------------------------------------------

CODE_WIDTH, PROMPT_WIDTH = 100, 88


def undeclared_reads(text, name='<stub>'):
    """(line, name) of every name a stub function reads after its `raise
    NotImplementedError` that nothing binds before the raise."""
    tree = ast.parse(text, name)
    known = set(dir(builtins))  # builtins and the module's own top-level names
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            known.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            known.update((a.asname or a.name).split('.')[0] for a in node.names)
        else:
            known.update(n.id for n in ast.walk(node)
                         if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    problems = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        raises = [node.lineno for node in ast.walk(function) if isinstance(node, ast.Raise)
                  and 'NotImplementedError' in ast.unparse(node)]
        if not raises:
            continue
        cut = min(raises)
        args = function.args
        bound = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        bound.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
        names = [node for node in ast.walk(function) if isinstance(node, ast.Name)]
        bound.update(n.id for n in names if isinstance(n.ctx, ast.Store) and n.lineno < cut)
        problems += [(n.lineno, n.id) for n in names if isinstance(n.ctx, ast.Load)
                     and n.lineno > cut and n.id not in bound and n.id not in known]
    return problems


OLD_STUB = '''def forward(self, X, y):
    #------------------------------------------------------------------
    # TODO: The loss and the accuracy.
    #------------------------------------------------------------------
    raise NotImplementedError(
        "forward is not implemented yet: see the TODO in models/m.py")
    return loss, accuracy


def train(X):
    return forward(None, X, None)
'''


def test_undeclared_reads_catches_the_old_stubs():
    """The check below fails on what `autograder stubs` wrote before outputs were declared."""
    assert undeclared_reads(OLD_STUB) == [(7, 'loss'), (7, 'accuracy')]
    declared = OLD_STUB.replace('    #---', '    loss = None\n    accuracy = None\n    #---', 1)
    assert undeclared_reads(declared) == []


def test_every_stub_declares_the_names_read_after_it():
    for path in sorted(STUDENT.rglob('*.py')):
        problems = undeclared_reads(path.read_text(), str(path))
        assert not problems, (f"{path.relative_to(STUDENT)}: read after the stub's raise but "
                              f"never assigned: {problems}")


def test_every_answer_region_is_banner_prompt_banner_raise_end_banner():
    regions = 0
    for path in sorted(STUDENT.rglob('*.py')):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip() != 'raise NotImplementedError(':
                continue
            regions += 1
            indent = line[:len(line) - len(line.lstrip())]
            assert lines[i - 1] == indent + stubs.BANNER, f"{path}:{i}: no banner above"
            close = next(j for j in range(i, len(lines)) if lines[j].rstrip().endswith('")'))
            assert lines[close + 1] == indent + stubs.END_BANNER, \
                f"{path}:{close + 2}: the answer region is not closed by the END banner"
            top = max(j for j in range(i - 1) if lines[j] == indent + stubs.BANNER)
            assert lines[top + 1].strip().startswith('# TODO:'), f"{path}:{top + 2}"
    assert regions == sum(len(stubs.solution_regions(p.read_text()))
                          for p in SOLUTIONS.rglob('*.py'))


def test_stubs_keep_the_tree_width():
    for path in sorted(STUDENT.rglob('*.py')):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            width = PROMPT_WIDTH if line.lstrip().startswith('#') else CODE_WIDTH
            assert len(line) <= width, f"{path}:{number}: {len(line)} columns > {width}"


def test_region_outputs_skip_arguments_and_earlier_names():
    source = ('def f(x, y):\n    z = 0\n    # BEGIN SOLUTION\n    # TODO: a\n'
              '    x = x + 1\n    z = x\n    w, v = z, y\n    # END SOLUTION\n'
              '    return v, w, x, z, y\n')
    out = stubs.render_stub(source, 'f.py', 'f.py')
    assert '    v = None\n    w = None\n    #---' in out
    assert 'x = None' not in out and 'z = None' not in out and 'y = None' not in out
    assert undeclared_reads(out) == []
