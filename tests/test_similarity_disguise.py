"""tests/corpus/similarity/disguise.py: each disguise does what it says and keeps the program."""
import ast
import io
import json
import subprocess
import sys
import tokenize

import pytest

from helpers import KIT, SOLUTIONS

sys.path.insert(0, str(KIT / 'tests' / 'corpus' / 'similarity'))
import disguise  # noqa: E402

COURSE = KIT / 'tests' / 'corpus' / 'course' / 'correct'
SOURCES = {'kit': SOLUTIONS, 'course': COURSE}
KINDS = ['rename', 'strip', 'reorder', 'respace', 'all', 'utf7']

# Runs a package's models, optimizer and batching on fixed random data; prints JSON.
PROBE = r'''
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import models, utils
from optimizer import SGD
rng = np.random.default_rng(0)
X, y = rng.normal(size=(16, 784)), rng.integers(0, 10, 16)
out = {}
for cls in (models.SoftmaxRegression, models.TwoLayerNet):
    model = cls()
    loss, accuracy = model.forward(X, y)
    grads = [float(np.abs(g).sum()) for _, g in sorted(model.gradients.items())]
    SGD(learning_rate=0.1, reg=1e-3).update(model)
    weights = float(sum(np.abs(w).sum() for w in model.weights.values()))
    out[cls.__name__] = [float(loss), float(accuracy), weights] + grads
data, label = utils.generate_batched_data(list(X[:10]), list(y[:10]), batch_size=3,
                                          shuffle=True, seed=4)
out['batches'] = [float(np.asarray(b).sum()) for b in data]
print(json.dumps(out))
'''


def probe(package, tmp_path):
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    result = subprocess.run([sys.executable, str(script), str(package)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={'MPLBACKEND': 'Agg', 'OPENBLAS_NUM_THREADS': '1',
                                 'PATH': '/usr/bin:/bin'})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def sources(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in disguise.python_files(folder)}


@pytest.mark.parametrize('style', sorted(SOURCES))
@pytest.mark.parametrize('kind', KINDS)
def test_each_disguise_changes_what_it_says(kind, style, tmp_path):
    original = SOURCES[style]
    out = disguise.disguise(kind, original, tmp_path / 'copy', seed=2)
    before, after = sources(original), sources(out)
    assert set(before) == set(after)
    changed = [rel for rel in before if before[rel] != after[rel]]
    assert len(changed) >= 4, f"{kind} left {sorted(set(before) - set(changed))} alone"
    for rel in changed:
        data = after[rel]
        compile(data, rel, 'exec')
        if kind == 'utf7':
            assert data.startswith(b'# -*- coding: utf-7 -*-\n#')
            assert data.count(b'\n') == 2  # to a UTF-8 reader: the cookie, one comment
            assert data.decode('utf-7') == \
                '# -*- coding: utf-7 -*-\n#\n' + before[rel].decode() + '\n'
            continue
        text = data.decode()
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        tree = ast.parse(text)
        docstrings = [n for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))
                      and ast.get_docstring(n) is not None]
        if kind in ('strip', 'all'):
            assert not any(t.type == tokenize.COMMENT for t in tokens) and not docstrings
        if kind in ('respace', 'all'):
            def indents(code):
                return {n.col_offset for n in ast.walk(ast.parse(code))
                        if isinstance(n, ast.stmt)}
            if max(indents(before[rel].decode())) >= 4:
                assert 2 in indents(text) and max(indents(text)) < \
                    max(indents(before[rel].decode())), rel
        if kind == 'reorder':
            def order(code):
                return [n.name for n in ast.walk(ast.parse(code))
                        if isinstance(n, ast.FunctionDef)]
            if len(order(before[rel].decode())) > 1:
                assert order(text) != order(before[rel].decode())
                assert sorted(order(text)) == sorted(order(before[rel].decode()))


def test_rename_changes_the_local_names_only(tmp_path):
    text = (SOLUTIONS / 'models' / 'two_layer_nn.py').read_text()
    renamed = disguise.rename(text, seed=1)
    params = {a.arg for a in ast.walk(ast.parse(text)) if isinstance(a, ast.arg)}
    locals_before = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)
                     and isinstance(n.ctx, ast.Store)} - params
    locals_after = {n.id for n in ast.walk(ast.parse(renamed)) if isinstance(n, ast.Name)
                    and isinstance(n.ctx, ast.Store)}
    assert locals_before and not locals_before & locals_after
    api = lambda code: sorted((n.name, [a.arg for a in n.args.args])  # noqa: E731
                              for n in ast.walk(ast.parse(code))
                              if isinstance(n, ast.FunctionDef))
    assert api(renamed) == api(text)  # what the grader calls keeps its name and parameters


def test_transplant_takes_one_file(tmp_path):
    rel = disguise.transplant(SOLUTIONS, COURSE, tmp_path / 'mixed', 'models/two_layer_nn.py')
    mixed = sources(tmp_path / 'mixed')
    assert mixed[rel] == (SOLUTIONS / rel).read_bytes()
    assert mixed['utils.py'] == (COURSE / 'utils.py').read_bytes()


def test_command_line(tmp_path):
    script = KIT / 'tests' / 'corpus' / 'similarity' / 'disguise.py'
    run = lambda *args: subprocess.run([sys.executable, str(script), *map(str, args)],  # noqa
                                       capture_output=True, text=True, timeout=60)
    assert run('--help').returncode == 0
    done = run('strip', COURSE, tmp_path / 'a')
    assert done.returncode == 0 and (tmp_path / 'a' / 'utils.py').is_file()
    assert run('strip', COURSE, tmp_path / 'a').returncode == 2  # exists
    assert run('transplant', COURSE, tmp_path / 'b').returncode == 2  # no --into
    assert run('nonsense', COURSE, tmp_path / 'c').returncode == 2


@pytest.mark.slow
@pytest.mark.parametrize('style', sorted(SOURCES))
def test_disguised_copies_compute_the_same(style, tmp_path):
    """Each copy is the same program: the same losses, gradients, SGD step and batches."""
    expected = probe(SOURCES[style], tmp_path)
    for kind in KINDS:
        copy = disguise.disguise(kind, SOURCES[style], tmp_path / kind, seed=4)
        assert probe(copy, tmp_path) == expected, kind
