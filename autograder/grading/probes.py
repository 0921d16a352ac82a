"""Exercise a package's code on given inputs; runs inside the sandbox.

    python -I -S -B probes.py PACKAGE_DIR REQUEST.json [REQUEST.json ...]

The judge runs this file, in a sandboxed child, against a student's package
(and, unsandboxed, against the reference solution). It imports what each
request needs from the module that defines it (models/_base_network.py,
models/two_layer_nn.py, optimizer/sgd.py, utils.py ...), so a package
written against either scaffold (this kit's, or the course's, whose
models/__init__.py exports only the two models) is exercised the same way.
It calls the code on the request's arrays and writes each result as an .npz
archive, in a length-prefixed frame, to the descriptor $SANDBOX_PAYLOAD_FD.

It holds no expected value and no hidden input: those stay with the judge.
Whatever it returns is untrusted: the student's code runs in this same
process and can change anything here, so the judge validates every answer.

The archive holds plain arrays; '__meta__' is a uint8 array of UTF-8 JSON with
non-array facts and, when the code under test raised or returned something
unusable, {"error": {"type", "message", "where", "kind"}}.
"""
import importlib
import inspect
import io
import json
import os
import sys
import traceback
import types

# Started with -S (no site): the judge names the site-packages folders.
sys.path.extend(p for p in os.environ.get('PROBE_SITE_PACKAGES', '').split(os.pathsep)
                if p and p not in sys.path)
import numpy as np  # noqa: E402

PACKAGE = None
MAX_PLOT_FIGURES, MAX_AXES, MAX_LINES, MAX_POINTS = 8, 8, 16, 1000


class Unusable(Exception):
    """What the code returned cannot be used; the message says why, in the student's terms."""


# -- importing the package -----------------------------------------------------
# models/ and optimizer/ are entered as bare packages: their __init__.py files
# do not run, so each test imports only the module that defines what it needs
# (and the modules that one imports). A syntax error in two_layer_nn.py then
# costs the two-layer tests, not every test of _baseNetwork too.
_INITIALISED = set()


def _bare_package(name):
    if name not in sys.modules and os.path.isdir(os.path.join(PACKAGE, name)):
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(PACKAGE, name)]
        module.__package__ = name
        sys.modules[name] = module
    return sys.modules.get(name)


def _module(name):
    if '.' in name:
        _bare_package(name.split('.')[0])
    return importlib.import_module(name)


def _package_attribute(package, name):
    """An attribute of a package's __init__.py, run once, on demand."""
    module = _bare_package(package)
    init = os.path.join(PACKAGE, package, '__init__.py')
    if module is not None and package not in _INITIALISED and os.path.isfile(init):
        _INITIALISED.add(package)
        module.__file__ = init
        with open(init) as f:
            exec(compile(f.read(), init, 'exec'), module.__dict__)
    return getattr(module, name)


def _class(module, name, package_attribute=None):
    """A class from the module that defines it, else from the package's __init__.py."""
    try:
        return getattr(_module(module), name)
    except (ImportError, AttributeError) as first:
        if package_attribute:
            try:
                return _package_attribute(package_attribute, name)
            except (ImportError, AttributeError):
                pass
        raise first


def base_network():
    return _class('models._base_network', '_baseNetwork', 'models')


def model_class(name):
    module = {'SoftmaxRegression': 'models.softmax_regression',
              'TwoLayerNet': 'models.two_layer_nn'}[name]
    return _class(module, name, 'models')


def sgd_class():
    return _class('optimizer.sgd', 'SGD', 'optimizer')


def utils():
    return _module('utils')


# -- values the code returned --------------------------------------------------
def as_array(value, what):
    """value as a plain numeric ndarray, or Unusable naming `what`."""
    try:
        array = np.asarray(value)
    except Exception as err:
        raise Unusable(f"{what} is not an array of numbers ({type(err).__name__})") from None
    if array.dtype == object or array.dtype.kind not in 'biuf':
        raise Unusable(f"{what} is a {type(value).__name__} of {array.dtype}, not numbers")
    return np.array(array)  # a copy: later calls of the code cannot change it


def as_number(value, what):
    array = as_array(value, what)
    if array.size != 1:
        raise Unusable(f"{what} has shape {array.shape}, expected a single number")
    return array.reshape(())


# -- trusted versions of the helpers -----------------------------------------------
# A model test also runs with these in place of helpers whose own tests
# failed, so one wrong helper costs its own test, not every model test too.
def _softmax(self, scores):
    scores = np.asarray(scores)
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _cross_entropy_loss(self, x_pred, y):
    x_pred = np.asarray(x_pred)
    picked = x_pred[np.arange(len(x_pred)), np.asarray(y)]
    return -float(np.log(np.maximum(picked, np.finfo(np.float64).tiny)).mean())


def _compute_accuracy(self, x_pred, y):
    return float(np.mean(np.argmax(x_pred, axis=1) == np.asarray(y)))


def _sigmoid(self, X):
    with np.errstate(over='ignore'):
        return 1 / (1 + np.exp(-np.asarray(X)))


def _sigmoid_dev(self, x):
    s = _sigmoid(self, x)
    return s * (1 - s)


def _relu(self, X):
    return np.maximum(X, 0)


def _relu_dev(self, X):
    X = np.asarray(X)
    return (X > 0).astype(X.dtype)


TRUSTED = {'softmax': _softmax, 'cross_entropy_loss': _cross_entropy_loss,
           'compute_accuracy': _compute_accuracy, 'sigmoid': _sigmoid,
           'sigmoid_dev': _sigmoid_dev, 'ReLU': _relu, 'ReLU_dev': _relu_dev}


def substitute_helpers(model, names):
    for name in names:
        setattr(model, name, types.MethodType(TRUSTED[name], model))


def shift_softmax(model):
    """Feed the model's own softmax row-shifted logits (softmax is shift-invariant).

    Used with large logits: whether the softmax itself is stable is the
    softmax test's business; here only the model's gradients are judged.
    """
    own = model.softmax

    def shifted(scores):
        scores = np.asarray(scores)
        return own(scores - scores.max(axis=1, keepdims=True))

    model.softmax = shifted


def set_weights(model, arrays):
    """Put the request's weights in model.weights, into the model's own arrays.

    A float64 array of the right shape is overwritten in place, so a model
    that keeps its own references to its weights (self.W1 = self.weights['W1'],
    right with an SGD that updates in place) computes with the new values.
    """
    for key, value in arrays.items():
        if key.startswith('w:'):
            name, value = key[2:], np.array(value, dtype=np.float64)
            own = model.weights.get(name)
            if isinstance(own, np.ndarray) and own.dtype == np.float64 and \
                    own.shape == value.shape and own.flags.writeable:
                own[...] = value
            else:
                model.weights[name] = value


def _referenced_elsewhere(model):
    """Whether the model holds its weight arrays outside model.weights too."""
    weights = getattr(model, 'weights', None)
    ids = {id(w) for w in weights.values()} if isinstance(weights, dict) else set()
    for name, value in list(getattr(model, '__dict__', {}).items()):
        if name in ('weights', 'gradients'):
            continue
        values = value.values() if isinstance(value, dict) else \
            value if isinstance(value, (list, tuple)) else (value,)
        if any(id(v) in ids for v in values):
            return True
    return False


def build_model(params):
    kwargs = {'input_size': params['input_size'], 'num_classes': params['num_classes']}
    if params['model'] == 'TwoLayerNet':
        kwargs['hidden_size'] = params['hidden_size']
    return model_class(params['model'])(**kwargs)


# -- probes ----------------------------------------------------------------------
def probe_call(params, arrays):
    """A method of _baseNetwork on the request's arrays: {'out': result}.

    params['helpers'] names methods replaced by trusted versions first (a
    sigmoid_dev built on a wrong sigmoid is judged on its own). The warnings
    the call issued (e.g. numpy's overflow warnings) are listed in
    meta['warnings'], for the feedback.
    """
    import warnings
    net = base_network()()
    substitute_helpers(net, params.get('helpers', ()))
    args = [arrays[name] for name in params['args']]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        out = getattr(net, params['method'])(*args)
    shown = [f"{type(w.message).__name__}: {w.message}"[:200] for w in caught[:5]]
    return {'out': as_array(out, f"{params['method']}()'s result")}, {'warnings': shown}


def _numeric_gradients(model, X, y, eps):
    out = {}
    for name in list(model.weights):
        weight = model.weights[name]
        if not (isinstance(weight, np.ndarray) and weight.dtype == np.float64
                and weight.flags.writeable):
            weight = model.weights[name] = np.array(weight, dtype=np.float64)
        grad = np.zeros_like(weight)
        for index in np.ndindex(weight.shape):
            saved = weight[index]
            weight[index] = saved + eps
            plus = as_number(model.forward(X, y, mode='valid')[0], "the loss")
            weight[index] = saved - eps
            minus = as_number(model.forward(X, y, mode='valid')[0], "the loss")
            weight[index] = saved
            grad[index] = (float(plus) - float(minus)) / (2 * eps)
        out['n:' + name] = grad
    return out


def probe_model(params, arrays):
    """Loss, accuracy and gradients of a model after each of several forward calls.

    forward(X_k, y_k, mode='train') is called for k = 1, 2, ... in turn and the
    gradients are read after each call, so gradients that accumulate across
    calls show. With numeric_eps, central differences of the model's own
    loss (mode='valid') at the last batch follow.
    """
    model = build_model(params)
    set_weights(model, arrays)
    substitute_helpers(model, params.get('helpers', ()))
    if params.get('shift_softmax'):
        shift_softmax(model)
    out, meta = {}, {'gradient_names': []}
    names = [k[2:] for k in arrays if k.startswith('w:')]
    for k in range(1, params['calls'] + 1):
        X, y = arrays[f'X{k}'], arrays[f'y{k}'].astype(np.int64)
        try:
            result = model.forward(X, y, mode='train')
        except Exception as err:
            if not params.get('loss_fallback'):
                raise
            # Judging the loss only: a backward pass that raises is the
            # gradient tests' business, if forward(mode='valid') works.
            try:
                result = model.forward(X, y, mode='valid')
            except Exception:
                raise err from None
            meta['train_error'] = {'type': type(err).__name__[:80], 'message': str(err)[:2000],
                                   'where': _where(err.__traceback__), 'kind': 'raised'}
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Unusable("forward() must return (loss, accuracy)")
        out[f'loss{k}'] = as_number(result[0], "the loss forward() returned")
        out[f'acc{k}'] = as_number(result[1], "the accuracy forward() returned")
        gradients = getattr(model, 'gradients', None)
        if not isinstance(gradients, dict):
            raise Unusable("model.gradients is not a dict")
        meta['gradient_names'] = sorted(str(n) for n in gradients)[:32]
        for name in names:
            if name in gradients:
                out[f'g{k}:{name}'] = as_array(gradients[name], f"gradients['{name}']")
    # Then forward() in another mode, which must leave the gradients alone
    # (judged by the loss tests; a forward() that fails there is not judged here).
    keys = set(gradients)
    before = {name: np.array(value, copy=True) for name, value in gradients.items()
              if isinstance(value, np.ndarray)}
    try:
        model.forward(arrays['X1'], arrays['y1'].astype(np.int64), mode='valid')
    except Exception:
        before = {}
    after = getattr(model, 'gradients', None)
    after = after if isinstance(after, dict) else {}

    def same(name):
        value = after.get(name)
        return isinstance(value, np.ndarray) and value.shape == before[name].shape and \
            np.array_equal(value, before[name], equal_nan=True)

    meta['valid_changed'] = sorted({str(n) for n in before if not same(n)}
                                   | {str(n) for n in after if n not in keys and before})[:32]
    if params.get('numeric_eps'):
        k = params['calls']
        out.update(_numeric_gradients(model, arrays[f'X{k}'], arrays[f'y{k}'].astype(np.int64),
                                      params['numeric_eps']))
    return out, meta


def probe_optimizer(params, arrays):
    """apply_regularization, or SGD.update with and without regularization, on bare models."""
    SGD = sgd_class()

    def fresh():
        return types.SimpleNamespace(
            weights={k[2:]: np.array(v) for k, v in arrays.items() if k.startswith('w:')},
            gradients={k[2:]: np.array(v) for k, v in arrays.items() if k.startswith('g:')})

    out = {}
    if params['op'] == 'apply_regularization':
        model = fresh()
        SGD(learning_rate=params['learning_rate'], reg=params['reg']).apply_regularization(model)
        out.update({'g:' + k: as_array(v, f"gradients['{k}']")
                    for k, v in model.gradients.items()})
        return out, {}
    # The update without regularization, then with it, beside what this
    # optimizer's own apply_regularization makes of the gradients: an update
    # is judged on its own, whatever apply_regularization does.
    plain = fresh()
    SGD(learning_rate=params['learning_rate'], reg=0.0).update(plain)
    out.update({'plain:' + k: as_array(v, f"weights['{k}']") for k, v in plain.weights.items()})
    regularized = fresh()
    SGD(learning_rate=params['learning_rate'], reg=params['reg']).update(regularized)
    out.update({'step:' + k: as_array(v, f"weights['{k}']")
                for k, v in regularized.weights.items()})
    own = fresh()
    try:
        SGD(learning_rate=params['learning_rate'],
            reg=params['reg']).apply_regularization(own)
        out.update({'reg:' + k: as_array(v, f"gradients['{k}']")
                    for k, v in own.gradients.items()})
    except Exception:
        pass  # judged by the regularization test; here the update alone counts
    return out, {}


def _rows(part, what):
    """(row sums float64 (N,), row width, element kind) of a 2-d list or array."""
    try:
        count = len(part)
    except TypeError:
        raise Unusable(f"{what} has no length") from None
    sums, widths = np.zeros(count), set()
    for start in range(0, count, 2000):
        chunk = as_array(part[start:start + 2000], what)
        if chunk.ndim < 2 and count:
            raise Unusable(f"{what} is not a list of images (shape {chunk.shape})")
        chunk = chunk.reshape(len(chunk), -1)
        widths.add(chunk.shape[1])
        sums[start:start + len(chunk)] = chunk.sum(axis=1, dtype=np.float64)
    if len(widths) > 1:
        raise Unusable(f"{what} has images of different sizes")
    return sums, (widths.pop() if widths else 0)


def probe_split(params, arrays):
    """load_mnist_trainval(): sizes, labels and the row sums of every part."""
    parts = utils().load_mnist_trainval()
    if not isinstance(parts, (tuple, list)) or len(parts) != 4:
        raise Unusable("load_mnist_trainval() must return train_data, train_label, "
                       "val_data, val_label")
    out, meta = {}, {'lengths': {}, 'widths': {}, 'containers': {}, 'label_kinds': {}}
    for name, part in zip(('train_data', 'train_label', 'val_data', 'val_label'), parts):
        meta['containers'][name] = type(part).__name__[:40]
        if name.endswith('label'):
            labels = as_array(part, name)
            meta['label_kinds'][name] = labels.dtype.kind
            meta['lengths'][name] = int(labels.shape[0]) if labels.ndim else 0
            out[name] = labels.reshape(-1)
        else:
            sums, width = _rows(part, name)
            meta['lengths'][name], meta['widths'][name] = int(len(sums)), int(width)
            out[name + '_rowsum'] = sums
    return out, meta


def probe_batching(params, arrays):
    """generate_batched_data for each call in params['calls']: batches, concatenated."""
    generate = utils().generate_batched_data
    out = {}
    for i, call in enumerate(params['calls']):
        n = call.get('n') or len(arrays['label'])  # the first n examples
        data, label = arrays['data'][:n], arrays['label'][:n].astype(np.int64)
        if call.get('as_list'):
            data, label = data.tolist(), label.tolist()
        result = generate(data, label, batch_size=call['batch_size'], shuffle=call['shuffle'],
                          seed=call['seed'])
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Unusable("generate_batched_data() must return (batched_data, batched_label)")
        batches, labels = list(result[0]), list(result[1])
        if len(batches) != len(labels):
            raise Unusable(f"{len(batches)} data batches but {len(labels)} label batches")
        sizes, label_sizes, rows, ys = [], [], [], []
        for j, (batch, ylab) in enumerate(zip(batches, labels)):
            batch = as_array(batch, f"batch {j + 1}")
            ylab = as_array(ylab, f"label batch {j + 1}").reshape(-1)
            sizes.append(len(batch) if batch.ndim else 0)
            label_sizes.append(len(ylab))
            if batch.size:
                rows.append(batch.reshape(len(batch), -1).astype(np.float64))
            ys.append(ylab.astype(np.float64))
        out[f'sizes{i}'] = np.array(sizes, dtype=np.int64)
        out[f'label_sizes{i}'] = np.array(label_sizes, dtype=np.int64)
        widths = {r.shape[1] for r in rows}
        if len(widths) > 1:
            raise Unusable("the batches hold examples of different sizes")
        out[f'data{i}'] = np.concatenate(rows) if rows else np.zeros((0, 3))
        out[f'label{i}'] = np.concatenate(ys) if ys else np.zeros(0)
    return out, {}


def probe_plot(params, arrays):
    """plot_curves on given histories: every figure it made, described and rendered.

    Figures are captured through matplotlib (pyplot's open figures, and the
    returned Figure if any), so both APIs work: the kit's (one figure, saved
    to save_path and returned) and the course's (two pyplot figures, shown,
    nothing returned). Each figure is rendered to PNG here; the judge decodes
    the images and checks them against the description.
    """
    import shutil
    import warnings
    if os.environ.get('PROBE_MPL_CACHE') and os.environ.get('MPLCONFIGDIR'):
        # The judge's prebuilt font cache, copied where matplotlib may write.
        shutil.copytree(os.environ['PROBE_MPL_CACHE'], os.environ['MPLCONFIGDIR'],
                        dirs_exist_ok=True)
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.figure
    import matplotlib.pyplot as plt
    warnings.filterwarnings('ignore')
    plt.close('all')
    plt.show = lambda *a, **k: None
    plot_curves = utils().plot_curves
    history = [arrays[k].tolist() for k in ('train_loss', 'train_acc', 'valid_loss', 'valid_acc')]
    saved_path = os.path.join(os.getcwd(), 'curves.png')
    try:
        parameters = inspect.signature(plot_curves).parameters
        takes_path = 'save_path' in parameters or any(
            p.kind == p.VAR_KEYWORD for p in parameters.values())
    except (TypeError, ValueError):
        takes_path = False
    dpi = 50

    def capture(fig):
        """(description, {key suffix: array}) of one figure, rendered now."""
        if not hasattr(fig.canvas, 'get_renderer'):
            FigureCanvasAgg(fig)  # a closed pyplot figure has lost its canvas
        buffer = io.BytesIO()
        fig.savefig(buffer, format='png', dpi=dpi)
        arrays = {'png': np.frombuffer(buffer.getvalue()[:4 * 2**20], dtype=np.uint8)}
        renderer = fig.canvas.get_renderer()
        height = fig.get_size_inches()[1] * dpi
        axes = []
        for a, ax in enumerate(fig.get_axes()[:MAX_AXES]):
            box = ax.get_window_extent(renderer)
            scale = dpi / fig.dpi
            legend = ax.get_legend() is not None or bool(fig.legends)
            lines = ax.get_lines()[:MAX_LINES]
            for j, line in enumerate(lines):
                y = np.asarray(line.get_ydata(), dtype=np.float64).reshape(-1)[:MAX_POINTS]
                arrays[f'y_{a}_{j}'] = y
            axes.append({'xlabel': str(ax.get_xlabel())[:200], 'ylabel': str(ax.get_ylabel())[:200],
                         'title': str(ax.get_title())[:200], 'legend': bool(legend),
                         'lines': len(lines),
                         'box': [float(box.x0 * scale), float(height - box.y1 * scale),
                                 float(box.x1 * scale), float(height - box.y0 * scale)]})
        return {'axes': axes}, arrays

    # A figure is judged as it was last drawn: code that saves a figure and
    # then closes it (plt.close) or clears it for the next plot (plt.clf,
    # fig.clear) is right too. Figures closed during the call are kept, and a
    # figure about to be cleared is captured first.
    import matplotlib._pylab_helpers
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    closed, before_clear = [], []
    real_close, real_clear = plt.close, matplotlib.figure.Figure.clear

    def close(*args, **kwargs):
        for manager in matplotlib._pylab_helpers.Gcf.get_all_fig_managers():
            if manager.canvas.figure not in closed:
                closed.append(manager.canvas.figure)
        return real_close(*args, **kwargs)

    def clear(self, *args, **kwargs):
        if self.get_axes() and len(before_clear) < MAX_PLOT_FIGURES:
            before_clear.append(capture(self))
        return real_clear(self, *args, **kwargs)

    plt.close, matplotlib.figure.Figure.clear = close, clear
    try:
        returned = plot_curves(*history, save_path=saved_path) if takes_path else \
            plot_curves(*history)
    finally:
        plt.close, matplotlib.figure.Figure.clear = real_close, real_clear
    # The figures as they are at the end first (open, closed, returned), then
    # the states captured before a clear.
    figures = [plt.figure(n) for n in plt.get_fignums()]
    for fig in closed + [returned]:
        if isinstance(fig, matplotlib.figure.Figure) and fig not in figures and \
                (fig.get_axes() or fig is returned):
            figures.append(fig)
    captured = [capture(fig) for fig in figures[:MAX_PLOT_FIGURES]] + before_clear
    out, described = {}, []
    for f, (description, arrays_of_figure) in enumerate(captured[:MAX_PLOT_FIGURES]):
        described.append(description)
        out[f'png{f}'] = arrays_of_figure.pop('png')
        out.update({f'y{f}{key[1:]}': value for key, value in arrays_of_figure.items()})
    meta = {'figures': described, 'returned': type(returned).__name__[:40],
            'takes_save_path': takes_path}
    if takes_path and os.path.isfile(saved_path):
        with open(saved_path, 'rb') as f:
            out['saved'] = np.frombuffer(f.read(4 * 2**20), dtype=np.uint8)
    if takes_path:
        # save_path=None means: draw, save nothing (train.py and notebooks call it so).
        files = set(os.listdir(os.getcwd()))
        plt.close('all')
        try:
            plot_curves(*history, save_path=None)
            meta['none_error'] = None
        except Exception as err:  # judged: None must be accepted
            meta['none_error'] = f"{type(err).__name__}: {err}"[:300]
        meta['none_saved'] = sorted(set(os.listdir(os.getcwd())) - files)[:8]
    return out, meta


class TrustedSGD:
    """w <- w - lr * (dL/dw + reg * w for weight matrices): the loop's own optimizer."""

    def __init__(self, learning_rate, reg):
        self.learning_rate, self.reg = learning_rate, reg

    def update(self, model):
        for name, weight in model.weights.items():
            grad = np.asarray(model.gradients[name])
            if grad.shape != weight.shape and grad.size == weight.size:
                grad = grad.reshape(weight.shape)
            if name.startswith('W'):
                grad = grad + self.reg * weight
            step = self.learning_rate * grad
            if isinstance(weight, np.ndarray) and weight.flags.writeable and \
                    weight.shape == step.shape and np.can_cast(step.dtype, weight.dtype,
                                                               'same_kind'):
                weight -= step  # in place: the model's own references stay valid
            else:
                model.weights[name] = weight - step


def _zero_gradients(model):
    """Zero the gradient arrays in place before each batch.

    A forward() that adds to its gradients instead of assigning them then
    still trains as it should: that bug costs the gradient tests, which call
    forward() twice, and not the accuracy test too.
    """
    gradients = getattr(model, 'gradients', None)
    if isinstance(gradients, dict):
        for value in gradients.values():
            if isinstance(value, np.ndarray) and value.flags.writeable:
                value[...] = 0


def train(package, params, data, verbose=False):
    """Train a fresh model with SGD; return its trained weights. Trusted loop.

    The judge grades a student's model (and optimizer) with this loop, not the
    student's own train(), so a bug in utils.py costs only the tests of
    utils.py. Calibration runs the reference through the same function.

    Args:
        package: (model class, SGD class or None for TrustedSGD).
        params: hidden_size, batch_size, learning_rate, reg, epochs, seed,
            model, helpers (helper names to replace with trusted versions).
        data: images (N, 784) float32, labels (N,) int64.

    Returns:
        {name: ndarray}: the model's weights after the last epoch.
    """
    model_cls, sgd_cls = package
    kwargs = {'hidden_size': params['hidden_size']} if params['model'] == 'TwoLayerNet' else {}
    model = model_cls(**kwargs)
    substitute_helpers(model, params.get('helpers', ()))
    optimizer = (sgd_cls or TrustedSGD)(learning_rate=params['learning_rate'],
                                        reg=params['reg'])
    X, y = data['images'], data['labels']
    # Train in the data's precision, as utils.train does: float32 weights make
    # every product and update float32 (models start in float64 for gradchecks).
    # Not when the model keeps its own references to its weight arrays (the
    # course's train() converts nothing, and new arrays would cut them).
    if not _referenced_elsewhere(model):
        for name, weight in model.weights.items():
            model.weights[name] = np.asarray(weight).astype(X.dtype, copy=False)
    rng = np.random.default_rng(params['seed'])
    batch = params['batch_size']
    for epoch in range(params['epochs']):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            index = order[start:start + batch]
            _zero_gradients(model)
            model.forward(X[index], y[index])
            optimizer.update(model)
        if verbose:
            print(f"epoch {epoch + 1} done", flush=True)
    return dict(model.weights)


def probe_train(params, arrays):
    """Train with the trusted loop on the judge's (rotated, row-shuffled) training split."""
    folder = os.environ['PROBE_TRAIN_DIR']
    data = {name: np.load(os.path.join(folder, name + '.npy'), mmap_mode='r')
            for name in ('images', 'labels')}
    sgd = sgd_class() if params.get('optimizer', 'own') == 'own' else None
    weights = train((model_class(params['model']), sgd), params, data)
    return {'w:' + str(k)[:32]: as_array(v, f"weights['{k}']")
            for k, v in list(weights.items())[:8]}, {}


def probe_evaluate(params, arrays):
    """Test accuracy of given weights with this package's model, and each class's recall.

    Run only against the trusted reference (the judge's side): it reads the
    test set. A class's recall is the accuracy on the images of that class.
    """
    images, labels = utils().load_mnist_test()
    kwargs = {'hidden_size': params['hidden_size']} if params['model'] == 'TwoLayerNet' else {}
    model = model_class(params['model'])(**kwargs)
    set_weights(model, arrays)
    recall = np.zeros(10)
    for digit in range(10):
        X, y = images[labels == digit], labels[labels == digit]
        hits = 0.0
        for start in range(0, len(y), 1000):
            _, accuracy = model.forward(np.asarray(X[start:start + 1000], dtype=np.float64),
                                        y[start:start + 1000], mode='valid')
            hits += accuracy * len(y[start:start + 1000])
        recall[digit] = hits / max(len(y), 1)
    counts = np.bincount(labels, minlength=10)
    return {'accuracy': np.float64((recall * counts).sum() / len(labels)), 'recall': recall}, {}


PROBES = {name[len('probe_'):]: fn for name, fn in list(globals().items())
          if name.startswith('probe_')}


def _where(tb):
    """The traceback's frames in the package's files, as 'file:line in function'."""
    frames = []
    for frame in traceback.extract_tb(tb):
        if PACKAGE and frame.filename.startswith(PACKAGE + os.sep):
            rel = os.path.relpath(frame.filename, PACKAGE)
            frames.append(f"{rel}:{frame.lineno} in {frame.name}")
    return frames[-5:]


def _encode(out, meta):
    arrays = {key: np.asarray(value) for key, value in out.items()}
    arrays['__meta__'] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _error(err, kind):
    message = str(err)
    if isinstance(err, SystemExit):
        message = repr(err.code)
    try:
        message = message[:2000]
    except Exception:
        message = ''
    return _encode({}, {'error': {'type': type(err).__name__[:80], 'message': message,
                                  'where': _where(err.__traceback__), 'kind': kind}})


def _answer(request_path):
    """The .npz bytes answering one request; exceptions of the code under test included."""
    with open(request_path) as f:
        request = json.load(f)
    arrays = {}
    if request.get('arrays'):
        path = os.path.join(os.path.dirname(request_path), request['arrays'])
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    try:
        out, meta = PROBES[request['probe']](request['params'], arrays)
        return _encode(out, meta)
    except Unusable as err:
        return _error(err, 'returned')
    except BaseException as err:  # SystemExit and KeyboardInterrupt from student code too
        return _error(err, 'raised')


def main():
    """probes.py PACKAGE REQUEST.json [REQUEST.json ...]: two frames per request.

    A frame is its length (8 bytes, little-endian) and its bytes: an empty
    frame when a request starts, then its answer. The judge gives each
    request its own budget; if one request crashes the process or runs out
    of time, the judge starts the rest in a new one.
    """
    global PACKAGE
    PACKAGE = os.path.realpath(sys.argv[1])
    fd = int(os.environ['SANDBOX_PAYLOAD_FD'])
    sys.path.insert(0, PACKAGE)
    os.environ.setdefault('MPLBACKEND', 'Agg')
    for request_path in sys.argv[2:]:
        _frame(fd, b'')  # "this request starts": the judge knows whose run ended it
        try:
            payload = _answer(request_path)
        except BaseException as err:  # e.g. an answer that cannot be encoded
            payload = _error(err, 'returned')
        _frame(fd, payload)
    os.close(fd)


def _frame(fd, payload):
    view = memoryview(len(payload).to_bytes(8, 'little') + payload)
    while view:
        view = view[os.write(fd, view):]


if __name__ == '__main__':
    main()
