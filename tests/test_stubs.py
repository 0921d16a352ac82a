"""student_version/ is generated from solutions/ and never drifts from it."""
import ast
import shutil
import sys

import pytest

from autograder import stubs
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
    assert 'A.f is not implemented yet: see the TODO in a.py' in out
    assert 'y = 2 * x' not in out and out.endswith('        return y\n')
