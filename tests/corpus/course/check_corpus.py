#!/usr/bin/env python3
"""Self-check of the course-style corpus (standard library + numpy only).

    python tests/corpus/course/check_corpus.py [-v]

1. Builds correct/ into a temporary folder and proves it right: numeric
   gradient checks of both models, exact SGD steps, a short descent on random
   data, the course-style data loading, batching, train/evaluate and
   plot_curves behaviour, the package exports and the config keys.
2. Builds every variant of bugs.yaml from correct/ (each old text must occur
   exactly once), byte-compiles it, and runs the same behavioural probes on it
   as on correct/: a variant marked `equivalent: true` must agree with
   correct/ on every probe, one marked `equivalent: false` must differ on at
   least one (which probes differ is printed with -v). A variant with
   `sizes: mnist` is probed, and compared with correct/, at MNIST's sizes.

Nothing here touches MNIST: every probe runs on small random or synthetic data,
one short subprocess per variant with one BLAS thread.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CORRECT = HERE / 'correct'
BUGS = HERE / 'bugs.yaml'

# --------------------------------------------------------------------------
# bugs.yaml: a small reader for the subset of YAML that file uses
# --------------------------------------------------------------------------

_BLOCK = re.compile(r'^\|2(-?)$')


def _indent(line):
    return len(line) - len(line.lstrip(' '))


def _scalar(text):
    text = text.strip()
    if text in ('true', 'false'):
        return text == 'true'
    if text.startswith('"'):
        return json.loads(text)
    return text


def parse_bugs_yaml(text):
    """Parse bugs.yaml: `bugs:` -> list of mappings with scalar keys, lists
    of quoted strings, and `edits:` -> list of {file, old, new} whose texts
    are `|2` / `|2-` block scalars or "" ."""
    lines = text.split('\n')
    bugs, bug, edit, list_key = [], None, None, None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        i += 1
        if not stripped or stripped.startswith('#'):
            continue
        ind = _indent(line)
        if ind == 0:
            if stripped != 'bugs:':
                raise ValueError('line %d: expected "bugs:"' % i)
            continue
        if ind == 2 and stripped.startswith('- id:'):
            bug = {'id': _scalar(stripped[len('- id:'):])}
            bugs.append(bug)
            edit = list_key = None
            continue
        if bug is None:
            raise ValueError('line %d: text before the first "- id:"' % i)
        if ind == 4:
            key, _, value = stripped.partition(':')
            if value.strip():
                bug[key] = _scalar(value)
                list_key = None
            else:
                bug[key] = []
                list_key = key
            continue
        if ind == 6 and stripped.startswith('- '):
            item = stripped[2:]
            if list_key == 'edits':
                key, _, value = item.partition(':')
                edit = {key: _scalar(value)}
                bug['edits'].append(edit)
            elif list_key:
                bug[list_key].append(_scalar(item))
            else:
                raise ValueError('line %d: list item outside a list' % i)
            continue
        if ind == 8 and edit is not None:
            key, _, value = stripped.partition(':')
            match = _BLOCK.match(value.strip())
            if not match:
                edit[key] = _scalar(value)
                continue
            body = []
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) >= 10):
                body.append(lines[i][10:] if lines[i].strip() else '')
                i += 1
            while body and body[-1] == '':
                body.pop()
            edit[key] = '\n'.join(body) + ('' if match.group(1) == '-' else '\n')
            continue
        raise ValueError('line %d: unexpected structure: %r' % (i, line))
    return bugs


def load_bugs():
    text = BUGS.read_text()
    bugs = parse_bugs_yaml(text)
    try:
        import yaml  # optional cross-check that the file really is this YAML
    except ImportError:
        pass
    else:
        assert yaml.safe_load(text)['bugs'] == bugs, 'bugs.yaml: PyYAML reads it differently'
    ids = [b['id'] for b in bugs]
    assert len(ids) == len(set(ids)), 'bugs.yaml: duplicate ids'
    for b in bugs:
        for key in ('kind', 'equivalent', 'behaviour', 'edits'):
            assert key in b, '%s: missing %s' % (b['id'], key)
        assert b.get('sizes', 'mnist') == 'mnist', '%s: sizes is mnist or absent' % b['id']
        assert isinstance(b['equivalent'], bool), b['id']
        assert b['edits'], b['id']
        for e in b['edits']:
            assert set(e) == {'file', 'old', 'new'}, (b['id'], e)
    return bugs


# --------------------------------------------------------------------------
# building variants
# --------------------------------------------------------------------------

def build(dest, edits=()):
    """Copy correct/ to dest and apply the edits in order; every old text
    must occur exactly once in its file at the moment it is applied."""
    shutil.copytree(CORRECT, dest, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    for e in edits:
        path = dest / e['file']
        text = path.read_text()
        count = text.count(e['old'])
        if count != 1:
            raise AssertionError('%s: old text occurs %d times, not once:\n%s'
                                 % (e['file'], count, e['old']))
        path.write_text(text.replace(e['old'], e['new']))
    for py in sorted(dest.rglob('*.py')):
        compile(py.read_text(), str(py), 'exec')  # syntax check, nothing written


# --------------------------------------------------------------------------
# the probe, run inside a built package (cwd = package folder)
# --------------------------------------------------------------------------

PROBE = r'''
import json, os, random, sys, warnings
sys.path.insert(0, os.getcwd())
warnings.simplefilter('ignore')
import numpy as np
import matplotlib
matplotlib.use('Agg')

out_path, selfcheck = sys.argv[1], sys.argv[2] == 'selfcheck'
results, errors = {}, {}

def record(name, fn):
    try:
        results[name] = np.asarray(fn(), dtype=np.float64).ravel()
    except Exception as exc:
        errors[name] = '%s: %s' % (type(exc).__name__, exc)

from models import SoftmaxRegression, TwoLayerNet
from optimizer import SGD
import utils

# C is MNIST's 10 classes (code may write np.eye(10)); weights are set in
# place, as the course's in-place SGD changes them (a model may keep its own
# references to its weight arrays).
# A variant with `sizes: mnist` (code that writes MNIST's sizes out) is probed,
# like a second run of correct/, at D = 784 and H = 128.
D, H, C, N = (784, 128, 10, 9) if os.environ.get('PROBE_MNIST_SIZES') else (12, 7, 10, 9)

def small_softmax(seed=0):
    rng = np.random.RandomState(seed)
    m = SoftmaxRegression(input_size=D, num_classes=C)
    m.weights['W1'][...] = 0.5 * rng.randn(D, C)
    return m

def small_twolayer(seed=0):
    rng = np.random.RandomState(seed + 1)
    m = TwoLayerNet(input_size=D, num_classes=C, hidden_size=H)
    m.weights['W1'][...] = 0.5 * rng.randn(D, H)
    m.weights['b1'][...] = 0.5 * rng.randn(H)
    m.weights['W2'][...] = 0.5 * rng.randn(H, C)
    m.weights['b2'][...] = 0.5 * rng.randn(C)
    return m

def batch(seed, n=N):
    rng = np.random.RandomState(100 + seed)
    return rng.rand(n, D), rng.randint(0, C, size=n)

X, y = batch(0)
MODELS = {'softmax': small_softmax, 'twolayer': small_twolayer}

# P1: one forward pass on a fresh model: loss, accuracy and every gradient
for tag, make in MODELS.items():
    m = make()
    record(tag + '.eval', lambda: m.forward(X, y, mode='valid'))
    record(tag + '.train', lambda: m.forward(X, y))
    for key in sorted(m.gradients):
        record('%s.grad.%s' % (tag, key), lambda: m.gradients[key])

# P2: three forward + SGD steps (the package's own SGD)
for tag, make in MODELS.items():
    def trajectory():
        m, opt, losses = make(), SGD(learning_rate=0.5, reg=0.01), []
        for k in range(3):
            Xk, yk = batch(k + 1)
            losses.append(m.forward(Xk, yk)[0])
            opt.update(m)
        return np.concatenate([np.ravel(losses)] + [np.ravel(m.weights[key]) for key in sorted(m.weights)])
    record(tag + '.sgd_steps', trajectory)

# P3: activations, softmax and loss at the numeric edges
base = SoftmaxRegression(input_size=3, num_classes=3)
xs = np.array([[-1000.0, -3.0, -0.5, 0.0], [0.5, 3.0, 40.0, 1000.0]])
record('sigmoid', lambda: base.sigmoid(xs))
record('sigmoid_dev', lambda: base.sigmoid_dev(xs))
record('relu', lambda: base.ReLU(xs))
record('relu_dev', lambda: base.ReLU_dev(xs))
record('softmax.normal', lambda: base.softmax(np.array([[0.1, 0.2, 0.3], [-1.0, 2.0, 0.5]])))
record('softmax.rows_far_apart', lambda: base.softmax(np.array([[1000.0, 999.0, 998.0],
                                                                  [-1000.0, -1001.0, -1002.0]])))
record('softmax.large', lambda: base.softmax(np.array([[800.0, 790.0, 0.0]])))
P = np.array([[0.2, 0.5, 0.3], [0.5, 0.1, 0.4], [0.3, 0.3, 0.4]])
record('loss.normal', lambda: base.cross_entropy_loss(P, np.array([1, 2, 0])))
record('accuracy', lambda: base.compute_accuracy(P, np.array([1, 2, 0])))
Z = np.array([[1.0, 0.0], [0.5, 0.5]])
record('loss.true_class_zero.finite', lambda: np.isfinite(base.cross_entropy_loss(Z, np.array([1, 0]))))
record('loss.other_class_zero', lambda: base.cross_entropy_loss(Z, np.array([0, 0])))

# P4: batching (stdlib random after the `if seed:` preamble)
data = [[float(i), i / 2.0] for i in range(103)]
label = [i % 10 for i in range(103)]
for bs, shuffle, seed in ((10, True, 7), (10, False, None), (25, True, 3), (103, True, 11)):
    def batches():
        bd, bl = utils.generate_batched_data(data, label, batch_size=bs, shuffle=shuffle, seed=seed)
        assert all(isinstance(b, np.ndarray) for b in list(bd) + list(bl))
        sizes = [len(b) for b in bd] + [len(b) for b in bl]
        flat_d = np.concatenate([np.asarray(b).reshape(-1, 2) for b in bd])
        flat_l = np.concatenate([np.asarray(b).ravel() for b in bl])
        paired = float(np.all(flat_d[:, 0] % 10 == flat_l)) if len(flat_d) == len(flat_l) else 0.0
        return np.concatenate([[len(bd), paired], sizes, flat_d.ravel(), flat_l])
    record('batches.bs%d.shuffle%s.seed%s' % (bs, shuffle, seed), batches)

# P4b: shuffling without a seed (main.py's call): only the pairing is stable
def unseeded():
    bd, bl = utils.generate_batched_data(data, label, batch_size=10, shuffle=True, seed=None)
    flat_d = np.concatenate([np.asarray(b).reshape(-1, 2) for b in bd])
    flat_l = np.concatenate([np.asarray(b).ravel() for b in bl])
    return [float(len(flat_d) == len(flat_l) and np.all(flat_d[:, 0] % 10 == flat_l))]
record('batches.unseeded.paired', unseeded)

# P5: utils.train / utils.evaluate on a small two-layer net
def train_eval():
    rng = np.random.RandomState(7)
    d2 = rng.rand(30, D).tolist()
    l2 = rng.randint(0, C, size=30).tolist()
    bd, bl = utils.generate_batched_data(d2, l2, batch_size=8, shuffle=True, seed=5)
    m, opt = small_twolayer(3), SGD(learning_rate=0.5, reg=0.01)
    first = utils.train(0, bd, bl, m, opt, debug=False)
    second = utils.evaluate(bd, bl, m, debug=False)
    return np.ravel([first, second])
record('train_evaluate', train_eval)

# P6: load_mnist_trainval on a small ./data/mnist_train.csv: pixel sums,
# labels and whether they are integers
def loading():
    os.makedirs('data', exist_ok=True)
    rng = np.random.RandomState(9)
    with open('data/mnist_train.csv', 'w') as f:
        for i in range(20):
            f.write(','.join(map(str, [i % 10] + rng.randint(0, 256, size=784).tolist())) + '\n')
    tr, trl, va, val = utils.load_mnist_trainval()
    ints = float(all(isinstance(v, (int, np.integer)) for v in list(trl) + list(val)))
    return np.concatenate([[len(tr), len(va), ints], np.asarray(tr, dtype=np.float64).sum(axis=1),
                           np.asarray(va, dtype=np.float64).sum(axis=1), trl, val])
record('load_mnist_trainval', loading)

# ------------------------------------------------------------------------
# selfcheck: assertions that prove correct/ right (only run on correct/)
# ------------------------------------------------------------------------
checks = []

def check(name, cond, detail=''):
    checks.append(name)
    if not cond:
        raise AssertionError('%s %s' % (name, detail))

def numeric_gradcheck(tag, m, X, y, eps=1e-6):
    m.forward(X, y, mode='train')
    analytic = {k: np.array(v, dtype=np.float64) for k, v in m.gradients.items()}
    worst = 0.0
    for key, w in m.weights.items():
        num = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            keep = w[idx]
            w[idx] = keep + eps
            up = m.forward(X, y, mode='valid')[0]
            w[idx] = keep - eps
            down = m.forward(X, y, mode='valid')[0]
            w[idx] = keep
            num[idx] = (up - down) / (2 * eps)
        check('gradient shape %s.%s' % (tag, key), analytic[key].shape == w.shape, analytic[key].shape)
        # relative error of the whole gradient (entry-wise ratios are noise
        # where a gradient entry is ~1e-6 and the difference quotient ~1e-10)
        err = np.linalg.norm(num - analytic[key]) / max(1e-12, np.linalg.norm(num) + np.linalg.norm(analytic[key]))
        worst = max(worst, err)
    return worst

if selfcheck:
    assert not errors, errors
    for tag, make in MODELS.items():
        worst = numeric_gradcheck(tag, make(), X, y)
        check('numeric gradient check %s (worst relative error %.1e)' % (tag, worst), worst < 1e-7)

    # exact SGD step: W <- W - lr (g + reg W), b <- b - lr g
    for tag, make in MODELS.items():
        m, opt = make(), SGD(learning_rate=0.3, reg=0.05)
        m.forward(X, y)
        before = {k: v.copy() for k, v in m.weights.items()}
        grads = {k: np.array(v, copy=True) for k, v in m.gradients.items()}
        opt.update(m)
        for k in before:
            expected = before[k] - 0.3 * (grads[k] + (0.05 * before[k] if k.startswith('W') else 0.0))
            check('SGD step %s.%s exact' % (tag, k), np.allclose(m.weights[k], expected, rtol=0, atol=1e-15))

    # a few dozen SGD steps on a learnable random problem
    rng = np.random.RandomState(42)
    Xl = rng.randn(64, D)
    yl = np.argmax(Xl @ rng.randn(D, C), axis=1)
    for tag, make in MODELS.items():
        m, opt = make(), SGD(learning_rate=0.5, reg=1e-4)
        start = m.forward(Xl, yl, mode='valid')[0]
        for _ in range(300):
            m.forward(Xl, yl)
            opt.update(m)
        end = m.forward(Xl, yl, mode='valid')[0]
        check('SGD descends %s (%.3f -> %.3f)' % (tag, start, end), end < 0.5 * start)

    # gradients are assigned, not accumulated: same batch twice, same gradients
    for tag, make in MODELS.items():
        m = make()
        m.forward(X, y)
        g1 = {k: np.array(v, copy=True) for k, v in m.gradients.items()}
        m.forward(X, y)
        check('gradients assigned %s' % tag, all(np.array_equal(g1[k], m.gradients[k]) for k in g1))

    # course initialisation and shapes
    sm = SoftmaxRegression()
    np.random.seed(1024)
    check('SoftmaxRegression W1 = 0.001 randn after seed 1024',
          np.array_equal(sm.weights['W1'], 0.001 * np.random.randn(784, 10)))
    check('SoftmaxRegression has only W1', sorted(sm.weights) == ['W1'] and sorted(sm.gradients) == ['W1'])
    check('SoftmaxRegression gradient starts at 0', not sm.gradients['W1'].any())
    tl = TwoLayerNet()
    np.random.seed(1024)
    w1 = 0.001 * np.random.randn(784, 128)
    np.random.seed(1024)
    w2 = 0.001 * np.random.randn(128, 10)
    check('TwoLayerNet W1, W2 = 0.001 randn, each after seed 1024',
          np.array_equal(tl.weights['W1'], w1) and np.array_equal(tl.weights['W2'], w2))
    check('TwoLayerNet biases zero, shapes (128,), (10,)',
          tl.weights['b1'].shape == (128,) and tl.weights['b2'].shape == (10,)
          and not tl.weights['b1'].any() and not tl.weights['b2'].any())
    check('TwoLayerNet default hidden_size 128', tl.hidden_size == 128)
    uniform = np.full((4, 784), 0.5)
    check('fresh SoftmaxRegression loss ~ ln 10',
          abs(sm.forward(uniform, np.arange(4), mode='valid')[0] - np.log(10)) < 1e-2)

    # package exports
    import models, optimizer
    exported = sorted(n for n in dir(models) if isinstance(getattr(models, n), type))
    check('models exports only SoftmaxRegression and TwoLayerNet', exported == ['SoftmaxRegression', 'TwoLayerNet'], exported)
    check('optimizer exports SGD', sorted(n for n in dir(optimizer) if isinstance(getattr(optimizer, n), type)) == ['SGD'])

    # loss finite at probability 0, correct value on the course example
    check('loss finite at p = 0', np.isfinite(base.cross_entropy_loss(Z, np.array([1, 0]))))
    check('loss of the course example 0.937803', abs(base.cross_entropy_loss(P, np.array([1, 2, 0])) - 0.937803) < 1e-5)
    check('softmax rows far apart are finite and sum to 1',
          np.allclose(base.softmax(np.array([[1000.0, 0.0], [-1000.0, -1001.0]])).sum(axis=1), 1.0))

    # load_csv / load_mnist_trainval / load_mnist_test from ./data/*.csv
    os.makedirs('data', exist_ok=True)
    rng = np.random.RandomState(3)
    def write_csv(path, n):
        rows = [[i % 10] + rng.randint(0, 256, size=784).tolist() for i in range(n)]
        rows[0][1:3] = [0, 255]
        with open(path, 'w') as f:
            f.write(''.join(','.join(map(str, r)) + '\n' for r in rows))
        return rows
    rows = write_csv('data/mnist_train.csv', 50)
    test_rows = write_csv('data/mnist_test.csv', 20)
    tr, trl, va, val = utils.load_mnist_trainval()
    te, tel = utils.load_mnist_test()
    check('load_mnist_trainval: first 80% / last 20%, no shuffle',
          len(tr) == 40 and len(va) == 10 and trl == [r[0] for r in rows[:40]] and val == [r[0] for r in rows[40:]])
    check('load_mnist_trainval returns lists of lists and int labels',
          all(type(v) is list for v in (tr, trl, va, val)) and all(type(img) is list and len(img) == 784 for img in tr + va)
          and all(type(t) is int for t in trl + val))
    check('pixels scaled by 1/255', tr[0][0] == 0.0 and tr[0][1] == 1.0 and tr[1][5] == rows[1][6] / 255)
    check('load_mnist_test reads ./data/mnist_test.csv', len(te) == 20 and tel == [r[0] for r in test_rows])

    # generate_batched_data: `if seed: random.seed(seed)` then random.shuffle
    bd, bl = utils.generate_batched_data(data, label, batch_size=10, shuffle=True, seed=1024)
    random.seed(1024)
    perm = list(range(len(data)))
    random.shuffle(perm)
    check('batches follow random.seed(seed) + random.shuffle',
          np.array_equal(np.concatenate(bl), np.array([label[i] for i in perm]))
          and np.array_equal(np.concatenate(bd), np.array([data[i] for i in perm])))
    check('batch sizes 10 ... 10, 3', [len(b) for b in bd] == [10] * 10 + [3])
    bd0, _ = utils.generate_batched_data(data, label, batch_size=10)
    check('no shuffle keeps the order', np.array_equal(np.concatenate(bd0), np.array(data)))

    # train / evaluate call forward with the default mode / mode='valid'
    class Spy(object):
        def __init__(self):
            self.calls = []
        def forward(self, X, y, *args, **kwargs):
            self.calls.append((args, kwargs))
            return 1.0, 0.5
    class NoOpt(object):
        def update(self, model):
            pass
    spy = Spy()
    small_d, small_l = utils.generate_batched_data(data[:20], label[:20], batch_size=8)
    utils.train(0, small_d, small_l, spy, NoOpt(), debug=False)
    check('train calls model.forward(X, y) with the default mode', spy.calls == [((), {})] * 3)
    spy.calls = []
    utils.evaluate(small_d, small_l, spy, debug=False)
    check("evaluate calls model.forward(X, y, mode='valid')", spy.calls == [((), {'mode': 'valid'})] * 3)

    # plot_curves: 4 arguments, two figures with labels and legends, show, None
    import matplotlib.pyplot as plt
    shown = []
    plt.show = lambda *a, **k: shown.append(1)
    before = set(plt.get_fignums())
    ret = utils.plot_curves([1.0, 0.8], [0.5, 0.6], [1.1, 0.9], [0.4, 0.55])
    new = [plt.figure(n) for n in plt.get_fignums() if n not in before]
    check('plot_curves returns None', ret is None)
    check('plot_curves draws two figures', len(new) == 2)
    for fig in new:
        ax = fig.axes[0]
        check('figure has two curves, labels and a legend',
              len(fig.axes) == 1 and len(ax.lines) == 2 and ax.get_legend() is not None
              and ax.get_xlabel() and ax.get_ylabel())
    check('plot_curves calls plt.show()', len(shown) == 1)

with open(out_path, 'w') as f:
    json.dump({'results': {k: v.tolist() for k, v in results.items()},
               'errors': errors, 'checks': checks}, f)
'''


def run_probe(pkg, probe_file, selfcheck, mnist_sizes=False):
    out = pkg.parent / (pkg.name + ('.mnist' if mnist_sizes else '') + '.json')
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONDONTWRITEBYTECODE='1',
               OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('PROBE_MNIST_SIZES', None)
    if mnist_sizes:
        env['PROBE_MNIST_SIZES'] = '1'
    proc = subprocess.run([sys.executable, str(probe_file), str(out),
                           'selfcheck' if selfcheck else 'probe'],
                          cwd=str(pkg), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError('probe failed in %s:\n%s' % (pkg.name, proc.stdout[-4000:]))
    with open(out) as f:
        report = json.load(f)
    report['results'] = {k: np.array(v) for k, v in report['results'].items()}
    return report


def differences(ref, got):
    """Names of the probes on which got disagrees with ref."""
    diff = []
    for name in sorted(set(ref['results']) | set(ref['errors']) | set(got['results']) | set(got['errors'])):
        a, b = ref['results'].get(name), got['results'].get(name)
        if a is None or b is None:
            diff.append(name + (' (raises %s)' % got['errors'][name] if name in got['errors'] else ''))
        elif a.shape != b.shape or not np.allclose(a, b, rtol=1e-6, atol=1e-9):
            diff.append(name)
    return diff


def main(argv):
    verbose = '-v' in argv
    bugs = load_bugs()
    failures = []
    with tempfile.TemporaryDirectory(prefix='course_corpus_') as tmp:
        tmp = Path(tmp)
        probe = tmp / 'probe.py'
        probe.write_text(PROBE)

        build(tmp / 'correct')
        ref = run_probe(tmp / 'correct', probe, selfcheck=True)
        refs = {}
        print('correct: %d checks passed, %d probes recorded' % (len(ref['checks']), len(ref['results'])))
        if verbose:
            for name in ref['checks']:
                print('    ok  ' + name)

        for bug in bugs:
            dest = tmp / ('bug_' + bug['id'])
            try:
                build(dest, bug['edits'])
            except AssertionError as exc:
                failures.append('%s: %s' % (bug['id'], exc))
                print('FAIL  %s: edit does not apply' % bug['id'])
                continue
            mnist = bug.get('sizes') == 'mnist'
            if mnist and 'mnist' not in refs:
                refs['mnist'] = run_probe(tmp / 'correct', probe, selfcheck=False, mnist_sizes=True)
            got = run_probe(dest, probe, selfcheck=False, mnist_sizes=mnist)
            diff = differences(refs['mnist'] if mnist else ref, got)
            ok = (not diff) if bug['equivalent'] else bool(diff)
            verdict = 'equivalent' if not diff else 'differs'
            print('%s  %-34s %d edit(s) applied; %s%s' % (
                'ok  ' if ok else 'FAIL', bug['id'], len(bug['edits']), verdict,
                (' on ' + ', '.join(diff)) if (diff and (verbose or not ok)) else ''))
            if not ok:
                failures.append('%s: marked equivalent=%s but %s' % (
                    bug['id'], bug['equivalent'], verdict + (' on ' + ', '.join(diff) if diff else '')))
    if failures:
        print('\n%d problem(s):\n  %s' % (len(failures), '\n  '.join(failures)))
        return 1
    print('all %d variants behave as bugs.yaml says' % len(bugs))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
