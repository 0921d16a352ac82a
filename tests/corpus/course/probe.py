"""Behavioural probe of one course-style or kit-style package (run inside it).

    cd PACKAGE && python probe.py OUT.json {probe|selfcheck} {course|kit}

Standard library, numpy and matplotlib only (what every package imports), no
MNIST: every probe runs on small random or synthetic data. It records what
the package computes (one numpy array per probe, or the error it raised) in
OUT.json; check_corpus.py compares those records between a variant and its
base. With `selfcheck` it also proves the package right (numeric gradient
checks, exact SGD steps, descent, loading, batching, plotting) and fails
with the first claim that does not hold.

The two API styles differ only where their scaffolds do: a course-style
package loads ./data/mnist_{train,test}.csv into lists and seeds the stdlib
`random` module; a kit-style one loads gzip IDX files from $MNIST_DIR into
arrays, shuffles with any seeded generator and must keep the loss finite at
probability 0. PROBE_MNIST_SIZES=1 probes the models at MNIST's sizes.
"""
import gzip
import json
import os
import random
import sys
import tempfile
import warnings

sys.path.insert(0, os.getcwd())
warnings.simplefilter('ignore')
import numpy as np  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

out_path, selfcheck, style = sys.argv[1], sys.argv[2] == 'selfcheck', sys.argv[3]
assert style in ('course', 'kit'), style
results, errors = {}, {}


def record(name, fn):
    try:
        results[name] = np.asarray(fn(), dtype=np.float64).ravel()
    except Exception as exc:
        errors[name] = '%s: %s' % (type(exc).__name__, exc)


# Kit-style data: synthetic IDX files where $MNIST_DIR points, written before
# utils is imported. Image i has every pixel equal to i % 251 and label i % 10,
# so order and pairing can be read back from the arrays.
N_FILES = {'train': 60000, 'test': 100}
if style == 'kit':
    data_dir = tempfile.mkdtemp(prefix='probe_mnist_')
    os.environ['MNIST_DIR'] = data_dir
    names = {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
             'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')}
    for split, n in N_FILES.items():
        index = np.arange(n)
        images = np.repeat((index % 251).astype(np.uint8)[:, None], 784, axis=1)
        with gzip.open(os.path.join(data_dir, names[split][0]), 'wb', compresslevel=1) as f:
            f.write((0x803).to_bytes(4, 'big') + b''.join(v.to_bytes(4, 'big') for v in (n, 28, 28))
                    + images.tobytes())
        with gzip.open(os.path.join(data_dir, names[split][1]), 'wb', compresslevel=1) as f:
            f.write((0x801).to_bytes(4, 'big') + n.to_bytes(4, 'big')
                    + (index % 10).astype(np.uint8).tobytes())

from models import SoftmaxRegression, TwoLayerNet  # noqa: E402
from optimizer import SGD  # noqa: E402
import utils  # noqa: E402

# C is MNIST's 10 classes (code may write np.eye(10)); weights are set in
# place, as the course's in-place SGD changes them (a model may keep its own
# references to its weight arrays). A variant with `sizes: mnist` (code that
# writes MNIST's sizes out) is probed, like a second run of its base, at
# D = 784 and H = 128.
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

# P3: activations, softmax and loss at the numeric edges. ReLU_dev at 0 is its
# own probe: the course never fixes that value.
base = SoftmaxRegression(input_size=3, num_classes=3)
xs = np.array([[-1000.0, -3.0, -0.5, 0.0], [0.5, 3.0, 40.0, 1000.0]])
nonzero = np.array([[-1000.0, -3.0, -0.5, -1e-9], [0.5, 3.0, 40.0, 1000.0]])
record('sigmoid', lambda: base.sigmoid(xs))
record('sigmoid_dev', lambda: base.sigmoid_dev(xs))
record('relu', lambda: base.ReLU(xs))
record('relu_dev', lambda: base.ReLU_dev(nonzero))
record('relu_dev.at_zero', lambda: base.ReLU_dev(np.array([0.0, -0.0])))
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

# P4: batching. Every call gets its own copies of the lists, as the course's
# main.py passes lists that nothing else reads (a shuffle may reorder them in place).
data = [[float(i), i / 2.0] for i in range(103)]
label = [i % 10 for i in range(103)]


def batched(bs, shuffle, seed, n=103):
    bd, bl = utils.generate_batched_data([list(row) for row in data[:n]], list(label[:n]),
                                         batch_size=bs, shuffle=shuffle, seed=seed)
    if not all(isinstance(b, np.ndarray) for b in list(bd) + list(bl)):
        raise TypeError('a batch is not a numpy array')
    sizes = [len(b) for b in bd] + [len(b) for b in bl]
    flat_d = np.concatenate([np.asarray(b).reshape(-1, 2) for b in bd])
    flat_l = np.concatenate([np.asarray(b).ravel() for b in bl])
    paired = float(len(flat_d) == len(flat_l) and np.all(flat_d[:, 0] % 10 == flat_l)
                   and np.all(flat_d[:, 1] == flat_d[:, 0] / 2))
    return len(bd), paired, sizes, flat_d, flat_l


for bs, shuffle, seed in ((10, True, 7), (10, False, None), (25, True, 3), (103, True, 11)):
    def batches():
        count, paired, sizes, flat_d, flat_l = batched(bs, shuffle, seed)
        return np.concatenate([[count, paired], sizes, flat_d.ravel(), flat_l])
    record('batches.bs%d.shuffle%s.seed%s' % (bs, shuffle, seed), batches)

# P4b: shuffling without a seed (main.py's call): only the pairing is stable
record('batches.unseeded.paired', lambda: [batched(10, True, None)[1]])


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


# P6: load_mnist_trainval: pixel sums, labels and whether they are integers
def write_csv(path, n, rng):
    rows = [[i % 10] + rng.randint(0, 256, size=784).tolist() for i in range(n)]
    rows[0][1:3] = [0, 255]
    with open(path, 'w') as f:
        f.write(''.join(','.join(map(str, r)) + '\n' for r in rows))
    return rows


def loading():
    if style == 'course':
        os.makedirs('data', exist_ok=True)
        write_csv('data/mnist_train.csv', 20, np.random.RandomState(9))
    tr, trl, va, val = utils.load_mnist_trainval()
    ints = float(all(isinstance(v, (int, np.integer)) for v in list(trl) + list(val)))
    return np.concatenate([[len(tr), len(va), ints], np.asarray(tr, dtype=np.float64).sum(axis=1),
                           np.asarray(va, dtype=np.float64).sum(axis=1), trl, val])


record('load_mnist_trainval', loading)


# P7: plot_curves, as a person would see it: pyplot's show() ends a figure as
# in a notebook, a figure is seen as it was before it is cleared or closed,
# and a folder that a savefig path names is made first (the student had it).
class PlotWatch:
    """Every axes plot_curves drew, with its curves, seen at show/clear/close and at the end."""

    def __init__(self):
        self.seen = []    # (axes, [ydata tuples], has legend); the axes kept alive

    def look(self, figures):
        for fig in figures:
            for ax in fig.get_axes():
                curves = [tuple(np.round(np.asarray(line.get_ydata(), dtype=float), 9))
                          for line in ax.get_lines()]
                legend = ax.get_legend() is not None or bool(fig.legends)
                self.seen.append((ax, curves, legend))

    def open_figures(self):
        return [plt.figure(n) for n in plt.get_fignums()]

    def run(self, *history):
        real = plt.show, plt.close, matplotlib.figure.Figure.clear, matplotlib.figure.Figure.savefig
        watch = self

        def show(*args, **kwargs):
            watch.look(watch.open_figures())
            real[1]('all')

        def close(*args, **kwargs):
            watch.look(watch.open_figures())
            return real[1](*args, **kwargs)

        def clear(fig, *args, **kwargs):
            watch.look([fig])
            return real[2](fig, *args, **kwargs)

        def savefig(fig, fname, *args, **kwargs):
            if isinstance(fname, (str, os.PathLike)) and os.path.dirname(os.fspath(fname)):
                os.makedirs(os.path.dirname(os.fspath(fname)), exist_ok=True)
            return real[3](fig, fname, *args, **kwargs)

        plt.show, plt.close = show, close
        matplotlib.figure.Figure.clear, matplotlib.figure.Figure.savefig = clear, savefig
        cwd = os.getcwd()
        os.chdir(tempfile.mkdtemp(prefix='probe_plot_'))
        try:
            returned = utils.plot_curves(*history)
        finally:
            os.chdir(cwd)
            plt.show, plt.close = real[0], real[1]
            matplotlib.figure.Figure.clear, matplotlib.figure.Figure.savefig = real[2], real[3]
        extra = [returned] if isinstance(returned, matplotlib.figure.Figure) else []
        self.look(self.open_figures() + extra)
        plt.close('all')
        return returned


HISTORY = ([1.0, 0.8, 0.7], [0.5, 0.6, 0.65], [1.1, 0.9, 0.85], [0.4, 0.55, 0.6])


def plotting():
    """[loss panel drawn, accuracy panel drawn, in different axes, both with legends]."""
    watch = PlotWatch()
    watch.run(*HISTORY)
    found = {}
    for name, pair in (('loss', (0, 2)), ('accuracy', (1, 3))):
        wanted = [tuple(np.round(HISTORY[i], 9)) for i in pair]
        for ax, curves, legend in watch.seen:
            if all(w in curves for w in wanted):
                found[name] = (id(ax), legend)
                break
    both = len(found) == 2
    return [float('loss' in found), float('accuracy' in found),
            float(both and found['loss'][0] != found['accuracy'][0]),
            float(both and found['loss'][1] and found['accuracy'][1])]


record('plot_curves', plotting)

# ------------------------------------------------------------------------
# selfcheck: assertions that prove the package right
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


def selfcheck_models():
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

    # a few hundred SGD steps on a learnable random problem
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

    # the scaffold's initialisation and shapes (given code in both styles)
    sm = SoftmaxRegression()
    np.random.seed(1024)
    check('SoftmaxRegression W1 = 0.001 randn after seed 1024',
          np.array_equal(sm.weights['W1'], 0.001 * np.random.randn(784, 10)))
    check('SoftmaxRegression has only W1', sorted(sm.weights) == ['W1'] and sorted(sm.gradients) == ['W1'])
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
    uniform = np.full((4, 784), 0.5)
    check('fresh SoftmaxRegression loss ~ ln 10',
          abs(sm.forward(uniform, np.arange(4), mode='valid')[0] - np.log(10)) < 1e-2)

    import models
    import optimizer
    exported = sorted(n for n in dir(models) if isinstance(getattr(models, n), type) and not n.startswith('_'))
    check('models exports SoftmaxRegression and TwoLayerNet', exported == ['SoftmaxRegression', 'TwoLayerNet'], exported)
    check('optimizer exports SGD', 'SGD' in dir(optimizer))

    # the functions on fixed inputs
    check('loss of the course example 0.937803', abs(base.cross_entropy_loss(P, np.array([1, 2, 0])) - 0.937803) < 1e-5)
    check('accuracy of the course example 1/3', abs(base.compute_accuracy(P, np.array([1, 2, 0])) - 1 / 3) < 1e-12)
    check('softmax rows far apart are finite and sum to 1',
          np.allclose(base.softmax(np.array([[1000.0, 0.0], [-1000.0, -1001.0]])).sum(axis=1), 1.0))
    check('softmax of logits +-1e4 is finite',
          np.all(np.isfinite(base.softmax(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4 + 1]])))))
    s = 1 / (1 + np.exp(-np.array([-3.0, 0.0, 2.5])))
    check('sigmoid and its derivative', np.allclose(base.sigmoid(np.array([-3.0, 0.0, 2.5])), s)
          and np.allclose(base.sigmoid_dev(np.array([-3.0, 0.0, 2.5])), s * (1 - s)))
    check('sigmoid(+-800) is 1 and 0', np.allclose(base.sigmoid(np.array([-800.0, 800.0])), [0.0, 1.0]))
    check('ReLU and ReLU_dev away from 0',
          np.array_equal(base.ReLU(nonzero), np.maximum(nonzero, 0))
          and np.array_equal(np.asarray(base.ReLU_dev(nonzero), dtype=float), (nonzero > 0).astype(float)))
    if style == 'kit':
        check('loss finite at p = 0 (the kit asks for it)', np.isfinite(base.cross_entropy_loss(Z, np.array([1, 0]))))

    # plot_curves: a loss panel and an accuracy panel, each with a legend
    check('plot_curves draws loss and accuracy, training and validation, in two panels with legends',
          list(results['plot_curves']) == [1.0, 1.0, 1.0, 1.0], results['plot_curves'])


def selfcheck_batching():
    count, paired, sizes, flat_d, _ = batched(10, False, None)
    check('batch sizes 10 ... 10, 3', sizes[:count] == [10] * 10 + [3] and sizes[count:] == sizes[:count])
    check('no shuffle keeps the order and the pairs', paired == 1.0 and np.array_equal(flat_d, np.array(data)))
    for seed in (1024, 7):
        a, b = batched(10, True, seed), batched(10, True, seed)
        check('shuffle(seed=%d) pairs data and labels, same order twice' % seed,
              a[1] == 1.0 and np.array_equal(a[4], b[4]) and not np.array_equal(a[4], np.array(label)))
    check('seeds 1024 and 7 give other orders', not np.array_equal(batched(10, True, 1024)[4], batched(10, True, 7)[4]))
    check('unseeded shuffle keeps the pairs', batched(10, True, None)[1] == 1.0)


def selfcheck_course():
    # load_csv / load_mnist_trainval / load_mnist_test from ./data/*.csv
    os.makedirs('data', exist_ok=True)
    rng = np.random.RandomState(3)
    rows = write_csv('data/mnist_train.csv', 50, rng)
    test_rows = write_csv('data/mnist_test.csv', 20, rng)
    tr, trl, va, val = utils.load_mnist_trainval()
    te, tel = utils.load_mnist_test()
    check('load_mnist_trainval: first 80% / last 20%, no shuffle',
          len(tr) == 40 and len(va) == 10 and list(trl) == [r[0] for r in rows[:40]]
          and list(val) == [r[0] for r in rows[40:]])
    check('load_mnist_trainval returns lists of 784 values and int labels',
          all(isinstance(v, list) for v in (tr, trl, va, val)) and all(len(img) == 784 for img in tr + va)
          and all(isinstance(t, int) for t in trl + val))
    check('pixels scaled by 1/255', tr[0][0] == 0.0 and tr[0][1] == 1.0 and tr[1][5] == rows[1][6] / 255)
    check('load_mnist_test reads ./data/mnist_test.csv', len(te) == 20 and list(tel) == [r[0] for r in test_rows])

    # the course: random.seed(seed), then one random.shuffle of N items
    _, _, _, flat_d, flat_l = batched(10, True, 1024)
    random.seed(1024)
    perm = list(range(len(data)))
    random.shuffle(perm)
    check('batches follow random.seed(seed) + random.shuffle',
          np.array_equal(flat_l, np.array([label[i] for i in perm]))
          and np.array_equal(flat_d, np.array([data[i] for i in perm])))

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


def selfcheck_kit():
    tr, trl, va, val = utils.load_mnist_trainval()
    index = np.arange(N_FILES['train'])
    check('load_mnist_trainval: the first 48,000 train, the last 12,000 validate, in order',
          len(tr) == 48000 and len(va) == 12000
          and np.array_equal(np.asarray(trl), index[:48000] % 10) and np.array_equal(np.asarray(val), index[48000:] % 10)
          and np.allclose(np.asarray(tr)[:, 0], (index[:48000] % 251) / 255)
          and np.allclose(np.asarray(va)[:, 300], (index[48000:] % 251) / 255))
    a, b = batched(10, True, 0), batched(10, True, 0)
    check('seed=0 is a seed like any other', np.array_equal(a[4], b[4]) and not np.array_equal(a[4], np.array(label)))
    arrays = utils.generate_batched_data(np.array(data), np.array(label), batch_size=25, shuffle=True, seed=3)
    check('arrays batch too, paired', all(np.all(np.asarray(d)[:, 0] % 10 == np.asarray(l))
                                          for d, l in zip(*arrays)))
    fig = utils.plot_curves(*HISTORY, save_path=None)
    check('plot_curves(save_path=None) returns the figure', isinstance(fig, matplotlib.figure.Figure))
    plt.close('all')
    path = os.path.join(tempfile.mkdtemp(prefix='probe_png_'), 'curves.png')
    utils.plot_curves(*HISTORY, save_path=path)
    with open(path, 'rb') as f:
        check('plot_curves(save_path=...) writes a PNG', f.read(8) == b'\x89PNG\r\n\x1a\n')
    plt.close('all')


if selfcheck:
    selfcheck_models()
    selfcheck_batching()
    (selfcheck_course if style == 'course' else selfcheck_kit)()

with open(out_path, 'w') as f:
    json.dump({'results': {k: v.tolist() for k, v in results.items()},
               'errors': errors, 'checks': checks}, f)
