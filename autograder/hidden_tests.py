"""The hidden tests: what each one asks of the code, and how its answer is judged.

Never shipped to students. A test builds requests (a probe of probes.py plus
hidden input arrays, drawn from seeds that live only here), the judge runs
them against the student's package in the sandbox and against the reference
solution, and the test's `check` compares the two sets of plain arrays.
Feedback names what is wrong (the function, the parameter, the worst entry
and its relative error) but never a hidden input or an expected value.

Points, visibility, time limits and thresholds live in rubric.yaml.
"""
import hashlib
from dataclasses import dataclass, field

import numpy as np

from . import paths

SEED = 0x5EED_2026
BASE = 'models/_base_network.py'
SOFTMAX = 'models/softmax_regression.py'
TWO_LAYER = 'models/two_layer_nn.py'
OPTIMIZER = ('optimizer/_base_optimizer.py', 'optimizer/sgd.py')
UTILS = 'utils.py'


@dataclass
class Request:
    """One probe run: the probe's name, its parameters and its input arrays."""
    probe: str
    params: dict
    arrays: dict = field(default_factory=dict)
    data: bool = False  # mounts the judge's MNIST folder


@dataclass
class Response:
    """One probe's answer, validated: float64 arrays and a JSON-like meta."""
    arrays: dict
    meta: dict
    error: object = None


@dataclass
class Verdict:
    """The share of the points earned (0 to 1) and the feedback."""
    fraction: float
    message: str


def rng_for(test_id, salt=''):
    """The hidden random generator of one test: the same inputs for every submission."""
    digest = hashlib.sha256(f'{SEED}:{test_id}:{salt}'.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], 'little'))


def _metric():
    return paths.solution_module('gradcheck')


def mismatch(name, got, want, tolerance):
    """Why `got` is not `want` within a relative tolerance, or None if it is.

    The error is gradcheck's: max|got - want| / (max|got| + max|want|), one
    number for the whole array.
    """
    if got is None:
        return f"{name}: not returned"
    if got.shape != want.shape:
        return f"{name}: has shape {got.shape}, expected {want.shape}"
    if not np.all(np.isfinite(got)):
        return f"{name}: contains NaN or infinity"
    report = _metric().compare(name, got, want)
    if report.rel_error > tolerance:
        where = f" (worst entry {report.worst_index})" if got.ndim else ""
        return f"{name}: relative error {report.rel_error:.2e}{where}"
    return None


class Test:
    """Base class: a hidden test. Subclasses set id and needs, and implement both methods."""
    id = ''
    needs = ()
    stage = 'function tests'  # for the timing breakdown

    def requests(self, ctx):
        raise NotImplementedError

    def check(self, got, ref, spec, ctx):
        raise NotImplementedError


class MethodTest(Test):
    """A _baseNetwork method on hidden inputs, compared with the reference."""

    def __init__(self, test_id, method, make_inputs, extra=None):
        self.id, self.method, self.make_inputs, self.extra = test_id, method, make_inputs, extra
        self.needs = (BASE,)

    def requests(self, ctx):
        arrays = self.make_inputs(rng_for(self.id))
        return [Request('call', {'method': self.method, 'args': list(arrays)}, arrays)]

    def check(self, got, ref, spec, ctx):
        problem = mismatch(f"{self.method}()", got[0].arrays.get('out'),
                           ref[0].arrays['out'], spec.tolerance)
        if problem is None and self.extra:
            problem = self.extra(got[0].arrays['out'])
        return Verdict(0.0 if problem else 1.0, problem or f"{self.method}() is correct")


def _activation_inputs(scale, extremes=()):
    def make(rng):
        x = rng.normal(scale=scale, size=(6, 9))
        x.flat[:len(extremes)] = extremes
        return {'x': x}
    return make


def _softmax_inputs(rng):
    return {'scores': rng.normal(scale=2.0, size=(7, 11))}


def _huge_softmax_inputs(rng):
    scores = rng.normal(scale=3.0, size=(6, 8))
    scores[0] += 1e4
    scores[1] -= 1e4
    scores[2, 3] = 1e4
    scores[3] *= 400.0
    return {'scores': scores}


def _probabilities(rng, n=12, c=7):
    logits = rng.normal(scale=1.5, size=(n, c))
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    return prob / prob.sum(axis=1, keepdims=True), rng.integers(0, c, size=n)


def _loss_inputs(rng):
    prob, y = _probabilities(rng)
    return {'prob': prob, 'y': y}


def _zero_prob_inputs(rng):
    prob, y = _probabilities(rng)
    prob[0] = 0.0
    prob[0, (y[0] + 1) % prob.shape[1]] = 1.0  # the true class gets probability 0
    return {'prob': prob, 'y': y}


def _large_but_finite(out):
    value = float(out)
    if value < 10:
        return ("cross_entropy_loss(): a probability of 0 for the true class should give a "
                "large loss")
    return None


class ModelTest(Test):
    """Loss and accuracy, or gradients, of a model with hidden weights and data.

    kind 'loss' compares loss and accuracy; 'gradients' compares every
    gradient with the reference and with central differences of the
    student's own loss (partial credit per parameter); 'large_logits' uses
    inputs whose logits reach the hundreds, where an unstable softmax breaks.
    """
    stage = 'gradient tests'

    def __init__(self, test_id, model, kind):
        self.id, self.model, self.kind = test_id, model, kind
        self.needs = (BASE, SOFTMAX if model == 'SoftmaxRegression' else TWO_LAYER)

    def requests(self, ctx):
        rng = rng_for(self.id)
        n, d, c, h = (int(rng.integers(lo, hi)) for lo, hi in ((7, 15), (9, 20), (3, 8), (4, 10)))
        params = {'model': self.model, 'input_size': d, 'num_classes': c}
        if self.model == 'TwoLayerNet':
            params['hidden_size'] = h
            shapes = {'W1': (d, h), 'b1': (h,), 'W2': (h, c), 'b2': (c,)}
        else:
            shapes = {'W1': (d, c)}
        large = self.kind == 'large_logits'
        arrays = {'X': rng.normal(scale=30.0 if large else 1.0, size=(n, d)),
                  'y': rng.integers(0, c, size=n)}
        # Large: logits of several hundred to a few thousand, beyond exp's
        # float64 range (709) unless the softmax shifts them.
        scales = {'W1': 150.0 if self.model == 'SoftmaxRegression' else 1.0,
                  'W2': 800.0, 'b2': 800.0} if large else {}
        for name, shape in shapes.items():
            arrays['w:' + name] = rng.normal(scale=scales.get(name, 0.6), size=shape)
        if self.kind == 'gradients':
            params['numeric_eps'] = 1e-5
        return [Request('model', params, arrays)]

    def check(self, got, ref, spec, ctx):
        got, ref = got[0], ref[0]
        if self.kind == 'loss':
            problems = [p for p in (mismatch('loss', got.arrays.get('loss'), ref.arrays['loss'],
                                             spec.tolerance),
                                    mismatch('accuracy', got.arrays.get('accuracy'),
                                             ref.arrays['accuracy'], 1e-12)) if p]
            return Verdict(0.0 if problems else 1.0,
                           '; '.join(problems) or "loss and accuracy are correct")
        names = sorted(k[2:] for k in ref.arrays if k.startswith('g:'))
        lines, passed = [], 0
        loss = got.arrays.get('loss')
        loss_bad = loss is None or not np.all(np.isfinite(loss))
        for name in names:
            problem = mismatch(f"gradient of {name}", got.arrays.get('g:' + name),
                               ref.arrays['g:' + name], spec.tolerance)
            if problem is None and self.kind == 'gradients':
                numeric = mismatch(f"gradient of {name} vs central differences of your loss",
                                   got.arrays.get('g:' + name), got.arrays.get('n:' + name),
                                   spec.tolerance)
                problem = numeric
            elif problem and self.kind == 'gradients' and 'n:' + name in got.arrays:
                own = mismatch('x', got.arrays.get('g:' + name), got.arrays['n:' + name],
                               spec.tolerance)
                if own is None:
                    problem += (" (it does match central differences of your own loss: "
                                "check the loss itself, e.g. the mean over the batch)")
            if problem is None and self.kind == 'large_logits' and loss_bad:
                problem = f"gradient of {name}: the loss is not finite for large logits"
            if problem:
                lines.append(problem)
            else:
                passed += 1
        if not lines:
            lines = [f"gradients of {', '.join(names)} are correct"]
        return Verdict(passed / len(names), '; '.join(lines))


def _weights_and_gradients(rng):
    shapes = {'W1': (7, 5), 'b1': (5,), 'W2': (5, 3), 'b2': (3,)}
    arrays = {}
    for name, shape in shapes.items():
        arrays['w:' + name] = rng.normal(size=shape)
        arrays['g:' + name] = rng.normal(size=shape)
    return arrays


class OptimizerTest(Test):
    """apply_regularization or a full SGD step on hidden weights and gradients."""

    def __init__(self, test_id, op):
        self.id, self.op = test_id, op
        self.needs = OPTIMIZER if op == 'update' else OPTIMIZER[:1]

    def requests(self, ctx):
        rng = rng_for(self.id)
        params = {'op': self.op, 'learning_rate': 0.05, 'reg': float(rng.uniform(0.1, 0.5))}
        return [Request('optimizer', params, _weights_and_gradients(rng))]

    def check(self, got, ref, spec, ctx):
        prefix = 'g:' if self.op == 'apply_regularization' else 'w:'
        what = 'gradient' if prefix == 'g:' else 'updated weight'
        problems = []
        for key in sorted(k for k in ref[0].arrays if k.startswith(prefix)):
            name = key[2:]
            problem = mismatch(f"{what} {name}", got[0].arrays.get(key), ref[0].arrays[key],
                               spec.tolerance)
            if problem and name.startswith('b'):
                problem += " (biases are never regularized)"
            if problem:
                problems.append(problem)
        return Verdict(0.0 if problems else 1.0, '; '.join(problems) or f"{self.op} is correct")


class SplitTest(Test):
    """load_mnist_trainval(): the first 48,000 training images train, the rest validate."""
    id = 'data.split'
    needs = (UTILS,)

    def requests(self, ctx):
        return [Request('split', {}, {}, data=True)]

    def check(self, got, ref, spec, ctx):
        problems = []
        for name, shape in ref[0].meta['shapes'].items():
            if got[0].meta.get('shapes', {}).get(name) != shape:
                problems.append(f"{name}: shape {got[0].meta.get('shapes', {}).get(name)}, "
                                f"expected {shape}")
        if not problems:
            for key in ('train_label', 'val_label', 'train_data_rowsum', 'val_data_rowsum'):
                problem = mismatch(key, got[0].arrays.get(key), ref[0].arrays[key], 1e-6)
                if problem:
                    problems.append(problem + " (the split must keep the files' order)")
        return Verdict(0.0 if problems else 1.0,
                       '; '.join(problems) or "the training/validation split is correct")


class BatchingTest(Test):
    """generate_batched_data: order, the last partial batch, seeded shuffling."""
    needs = (UTILS,)

    def __init__(self, test_id, n, batch_size, calls):
        self.id, self.n, self.batch_size, self.calls = test_id, n, batch_size, calls

    def requests(self, ctx):
        label = np.arange(self.n)
        data = np.stack([label, 2 * label + 1, -label], axis=1).astype(np.float64)
        calls = [dict(batch_size=self.batch_size, **c) for c in self.calls]
        return [Request('batching', {'calls': calls}, {'data': data, 'label': label})]

    def check(self, got, ref, spec, ctx):
        arrays = got[0].arrays
        expected_sizes = [self.batch_size] * (self.n // self.batch_size)
        if self.n % self.batch_size:
            expected_sizes.append(self.n % self.batch_size)
        orders = []
        for i, call in enumerate(self.calls):
            sizes = arrays.get(f'sizes{i}')
            if sizes is None or sizes.tolist() != expected_sizes:
                got_sizes = None if sizes is None else [int(s) for s in sizes]
                return Verdict(0.0, f"{self.n} examples in batches of {self.batch_size}: batch "
                                    f"sizes {got_sizes}, expected {expected_sizes}")
            label, data = arrays.get(f'label{i}'), arrays.get(f'data{i}')
            if label is None or data is None or label.shape != (self.n,) \
                    or data.shape != (self.n, 3):
                return Verdict(0.0, "the batches do not hold every example once")
            if sorted(label.tolist()) != list(range(self.n)):
                return Verdict(0.0, "the batches repeat or drop examples")
            if not np.array_equal(data[:, 0], label) or not np.array_equal(data[:, 1], 2 * label + 1):
                return Verdict(0.0, "data and labels are no longer paired after batching")
            if not call['shuffle'] and not np.array_equal(label, np.arange(self.n)):
                return Verdict(0.0, "without shuffle the examples must keep their order")
            orders.append((call, label))
        shuffled = [(c['seed'], o) for c, o in orders if c['shuffle']]
        for seed, order in shuffled:
            if np.array_equal(order, np.arange(self.n)):
                return Verdict(0.0, f"shuffle=True with seed={seed} left the examples in order")
            for other_seed, other in shuffled:
                if other_seed == seed and not np.array_equal(order, other):
                    return Verdict(0.0, f"two calls with seed={seed} gave different orders: "
                                        f"the same seed must give the same order")
                if other_seed != seed and np.array_equal(order, other):
                    return Verdict(0.0, f"seeds {seed} and {other_seed} gave the same order")
        return Verdict(1.0, "batching is correct")


class PlotTest(Test):
    """plot_curves: two labelled panels with legends, the right curves, a PNG."""
    id = 'plot_curves'
    needs = (UTILS,)

    def requests(self, ctx):
        rng = rng_for(self.id)
        epochs = 6
        history = {'train_loss': np.sort(rng.uniform(0.2, 2.0, epochs))[::-1],
                   'train_acc': np.sort(rng.uniform(0.3, 0.95, epochs)),
                   'valid_loss': np.sort(rng.uniform(0.25, 2.1, epochs))[::-1],
                   'valid_acc': np.sort(rng.uniform(0.3, 0.9, epochs))}
        return [Request('plot', {}, history, data=True)]  # data/ holds the font cache

    def check(self, got, ref, spec, ctx):
        meta, arrays = got[0].meta, got[0].arrays
        axes = meta.get('axes') if isinstance(meta.get('axes'), list) else []
        if len(axes) != 2 or not all(isinstance(ax, dict) for ax in axes):
            return Verdict(0.0, f"the figure has {len(axes)} axes; expected 2 (loss and "
                                f"accuracy)")
        history = self.requests(ctx)[0].arrays
        problems = []
        for name in ('loss', 'accuracy'):
            key = 'loss' if name == 'loss' else 'acc'
            curves = {'training': history['train_' + key], 'validation': history['valid_' + key]}
            panel = None
            for i, ax in enumerate(axes):
                lines = [arrays.get(f'y{i}_{j}') for j in range(int(ax.get('lines') or 0))]
                shown = [label for label, curve in curves.items()
                         if any(line is not None and line.shape == curve.shape
                                and np.allclose(line, curve) for line in lines)]
                if len(shown) == 2:
                    panel = ax
            if panel is None:
                problems.append(f"no panel shows both the training and the validation {name}")
                continue
            if not (panel.get('xlabel') and panel.get('ylabel')):
                problems.append(f"the {name} panel needs labels on both axes")
            if not panel.get('legend'):
                problems.append(f"the {name} panel needs a legend")
        if meta.get('png_header') != '89504e470d0a1a0a':
            problems.append("no PNG was saved to save_path")
        return Verdict(0.0 if problems else 1.0,
                       '; '.join(problems) or "the learning curves are plotted correctly")


class AccuracyTest(Test):
    """Train the student's model with the default config; the judge scores its predictions.

    The sandbox gets the training split and the test images in a hidden
    order, never the test labels.
    """
    stage = 'accuracy training'

    def __init__(self, test_id, model, config_name):
        self.id, self.model, self.config_name = test_id, model, config_name
        self.needs = (BASE, SOFTMAX if model == 'SoftmaxRegression' else TWO_LAYER) + OPTIMIZER

    def requests(self, ctx):
        return [Request('train', train_params(self.model, self.config_name, seed=0), data=True)]

    def check(self, got, ref, spec, ctx):
        predictions = got[0].arrays.get('predictions')
        labels = ctx.test_labels()
        if predictions is None or predictions.shape != labels.shape:
            return Verdict(0.0, "no prediction for each test image")
        accuracy = float(np.mean(predictions == labels))
        ctx.leaderboard[self.id] = accuracy
        credit = spec.credit_for(accuracy)
        needed = spec.bands[0].min_accuracy
        text = f"test accuracy {accuracy:.4f} (full credit from {needed:.3f})"
        if credit < 1:
            text += "; partial credit below that" if credit > 0 else ""
        return Verdict(credit, text)


def train_params(model, config_name, seed):
    """The accuracy probe's parameters from a shipped default config."""
    config = paths.solution_module('config').load_config(
        paths.solutions_dir() / 'configs' / config_name)
    train, spec = config['Train'], config['Model']
    return {'model': model, 'hidden_size': spec.get('hidden_size', 0), 'seed': seed,
            'batch_size': train['batch_size'], 'learning_rate': train['learning_rate'],
            'reg': train['reg'], 'epochs': train['epochs']}


def all_tests():
    """Every hidden test, by id, in the order the rubric lists them."""
    tests = [
        MethodTest('activations.sigmoid', 'sigmoid',
                   _activation_inputs(3.0, (-800.0, -40.0, 0.0, 40.0, 800.0))),
        MethodTest('activations.sigmoid_dev', 'sigmoid_dev', _activation_inputs(3.0, (0.0,))),
        MethodTest('activations.relu', 'ReLU', _activation_inputs(1.0, (0.0, -0.0))),
        MethodTest('activations.relu_dev', 'ReLU_dev', _activation_inputs(1.0, (0.0, -0.0))),
        MethodTest('softmax.values', 'softmax', _softmax_inputs),
        MethodTest('softmax.stability', 'softmax', _huge_softmax_inputs),
        MethodTest('loss.cross_entropy', 'cross_entropy_loss', _loss_inputs),
        MethodTest('loss.zero_probability', 'cross_entropy_loss', _zero_prob_inputs,
                   extra=_large_but_finite),
        MethodTest('metrics.accuracy', 'compute_accuracy', _loss_inputs),
        OptimizerTest('regularization', 'apply_regularization'),
        OptimizerTest('sgd.step', 'update'),
        SplitTest(),
        BatchingTest('batching.order', 60, 12, [{'shuffle': False, 'seed': None},
                                                {'shuffle': False, 'seed': None,
                                                 'as_list': True}]),
        BatchingTest('batching.partial_batch', 53, 10, [{'shuffle': False, 'seed': None}]),
        BatchingTest('batching.shuffle', 48, 8, [{'shuffle': True, 'seed': 0},
                                                 {'shuffle': True, 'seed': 0},
                                                 {'shuffle': True, 'seed': 11},
                                                 {'shuffle': True, 'seed': 11}]),
        PlotTest(),
        ModelTest('softmax_regression.loss', 'SoftmaxRegression', 'loss'),
        ModelTest('softmax_regression.gradients', 'SoftmaxRegression', 'gradients'),
        ModelTest('softmax_regression.large_logits', 'SoftmaxRegression', 'large_logits'),
        ModelTest('two_layer.loss', 'TwoLayerNet', 'loss'),
        ModelTest('two_layer.gradients', 'TwoLayerNet', 'gradients'),
        ModelTest('two_layer.large_logits', 'TwoLayerNet', 'large_logits'),
        AccuracyTest('accuracy.softmax_regression', 'SoftmaxRegression', 'config_softmax.yaml'),
        AccuracyTest('accuracy.two_layer', 'TwoLayerNet', 'config_twolayer.yaml'),
    ]
    return {t.id: t for t in tests}
