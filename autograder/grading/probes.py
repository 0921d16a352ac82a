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
PAYLOAD_FD = None
# A frame starting with this byte is progress (sandbox.PROGRESS), not an answer.
PROGRESS = b'\x01'
MAX_PLOT_FIGURES, MAX_AXES, MAX_LINES, MAX_POINTS = 8, 8, 16, 1000


class OnlyTheseLibraries:
    """An import hook: the package's own code finds only the student package's libraries.

    $PROBE_ALLOWED_MODULES lists them (grading/libraries.py). An import made
    by a file of the package of another top-level module than those, the
    standard library and the package's own modules fails as it would on a
    student's machine set up from the README; what the libraries themselves
    import (their own dependencies, Python's internals) is never refused.
    """

    def __init__(self, allowed):
        self.allowed = set(allowed) | set(sys.stdlib_module_names) | set(sys.builtin_module_names)

    def find_spec(self, name, path=None, target=None):
        top = name.partition('.')[0]
        if top in self.allowed or '.' in name or not PACKAGE or not self._from_package():
            return None
        from importlib.machinery import PathFinder
        if PathFinder.find_spec(top, [PACKAGE]) is not None:
            return None  # the package's own module
        raise ModuleNotFoundError(
            f"No module named {name!r} (the grader has the assignment's libraries: numpy, "
            f"matplotlib, PyYAML, tqdm, threadpoolctl, jaxtyping)", name=name)

    @staticmethod
    def _from_package():
        """Whether the import statement being run is in one of the package's files."""
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.startswith('<frozen importlib'):
            frame = frame.f_back
        return frame is not None and frame.f_code.co_filename.startswith(PACKAGE + os.sep)


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


class Patched:
    """Methods of a model replaced for one request, then put back.

    A method is replaced on every class of the model's MRO that defines it
    and on the instance, so the model reaches the replacement however it
    calls it: self.softmax(z), _baseNetwork.softmax(self, z), even
    _baseNetwork.softmax(_baseNetwork, z) (seen in real code). Every
    replacement is undone on exit: later requests in the same process see
    the student's own classes again.

    Args:
        model: the instance under test.
        replacements: {method name: function(self, *args)}.
    """

    def __init__(self, model, replacements):
        self.model, self.replacements, self.undo = model, replacements, []

    def __enter__(self):
        for name, function in self.replacements.items():
            for cls in type(self.model).__mro__:
                if name in vars(cls) and cls is not object:
                    original = vars(cls)[name]
                    self.undo.append((cls, name, original))
                    setattr(cls, name, _like(original, function))
            own = getattr(self.model, '__dict__', {})
            if name in own:
                self.undo.append((self.model, name, own[name]))
                setattr(self.model, name, types.MethodType(function, self.model))
        return self.model

    def __exit__(self, *exc):
        for target, name, value in reversed(self.undo):
            setattr(target, name, value)


def _like(original, function):
    """function(self, *args) wrapped the way `original` was (static or class method)."""
    if isinstance(original, staticmethod):
        return staticmethod(lambda *args: function(None, *args))
    if isinstance(original, classmethod):
        return classmethod(function)
    return function


def _as_method(raw, self):
    """A class attribute (function, staticmethod, classmethod) as a callable on self's args."""
    if isinstance(raw, staticmethod):
        return raw.__func__
    if isinstance(raw, classmethod):
        return types.MethodType(raw.__func__, type(self))
    return types.MethodType(raw, self)


def trusted_helpers(names):
    """{name: trusted function} for the helper names given."""
    return {name: TRUSTED[name] for name in names}


def shifted_softmax(model, inner=None):
    """{'softmax': the model's own softmax fed row-shifted logits} (softmax is shift-invariant).

    Used with large logits: whether the softmax itself is stable is the
    softmax test's business; here only the model's gradients are judged.
    The model's own function is looked up on its class, so a model that
    calls the base class's softmax directly is shifted too; `inner` (a
    trusted softmax) takes its place when given.
    """
    own = inspect.getattr_static(type(model), 'softmax', None)

    def softmax(self, scores):
        scores = np.asarray(scores)
        shifted = scores - scores.max(axis=1, keepdims=True)
        if inner is not None or own is None:
            return (inner or _softmax)(self, shifted)
        return _as_method(own, self if self is not None else model)(shifted)

    return {'softmax': softmax}


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
    args = [arrays[name] for name in params['args']]
    with warnings.catch_warnings(record=True) as caught, \
            Patched(net, trusted_helpers(params.get('helpers', ()))):
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
    replacements = trusted_helpers(params.get('helpers', ()))
    if params.get('shift_softmax'):
        replacements.update(shifted_softmax(model, replacements.get('softmax')))
        # The gradients are judged here, not the loss: a loss that cannot take a
        # probability of 0 (math.log raises) is the loss tests' business.
        replacements['cross_entropy_loss'] = _cross_entropy_loss
    with Patched(model, replacements):
        return _exercise_model(model, params, arrays)


def _exercise_model(model, params, arrays):
    """probe_model's calls on a model whose helpers are in place."""
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


def _parse_csv(path):
    """The course's CSV layout read as its given load_csv reads it: lists of floats, ints."""
    data, labels = [], []
    with open(path) as f:
        for line in f:
            fields = line.rstrip().split(',')
            labels.append(int(fields[0]))
            data.append([int(v) / 255 for v in fields[1:]])
    return data, labels


def _identical(got, want):
    """got equals want value for value and type for type (7.0 is not 7), lists all the way."""
    if type(got) is not type(want):
        return False
    if isinstance(want, list):
        return len(got) == len(want) and all(_identical(g, w) for g, w in zip(got, want))
    return got == want


def given_csv_loader(module):
    """A fast stand-in for the course's given load_csv, or None.

    The course hands students load_csv, which parses the 60,000-line training
    CSV into Python lists: 7-12 s of CPU for code that is given, not the
    student's work. Where the judge gave the data ($PROBE_CSV_SAMPLE: a short
    sample CSV; $PROBE_CSV_TRAIN: the training CSV; $PROBE_CSV_IMAGES and
    $PROBE_CSV_LABELS: its pixels and labels as .npy) and the package's
    load_csv returns exactly what the given one does on the sample, it is
    replaced, for the training CSV only, by one that returns the same images
    from the .npy: float32 rows (numpy arrays) in a list, and int labels.
    A load_csv that behaves otherwise (pixels not scaled, float labels) is
    left alone and judged as it is.
    """
    names = ('PROBE_CSV_SAMPLE', 'PROBE_CSV_TRAIN', 'PROBE_CSV_IMAGES', 'PROBE_CSV_LABELS')
    sample, train_csv, images, label_file = (os.environ.get(n) for n in names)
    given = getattr(module, 'load_csv', None)
    if not (sample and train_csv and images and label_file) or not callable(given):
        return None
    try:
        data, labels = given(sample)
        want_data, want_labels = _parse_csv(sample)
        same = _identical(labels, want_labels) and _identical(data, want_data)
    except Exception:
        return None
    if not same:
        return None
    try:
        info = os.stat(train_csv)
    except OSError:
        return None
    train = (info.st_dev, info.st_ino)  # whatever path reaches it (./data, from __file__)

    def load_csv(path, *args, **kwargs):
        try:
            info = os.stat(path)
        except (OSError, TypeError, ValueError):
            return given(path, *args, **kwargs)
        if (info.st_dev, info.st_ino) != train:
            return given(path, *args, **kwargs)
        pixels = np.load(images).astype(np.float32) / np.float32(255)
        return list(pixels), np.load(label_file).tolist()

    return load_csv


def probe_split(params, arrays):
    """load_mnist_trainval(): sizes, labels and the row sums of every part."""
    module = utils()
    fast = given_csv_loader(module)
    if fast is not None:
        module.load_csv, given = fast, module.load_csv
    try:
        parts = module.load_mnist_trainval()
    finally:
        if fast is not None:
            module.load_csv = given
    if not isinstance(parts, (tuple, list)) or len(parts) != 4:
        raise Unusable("load_mnist_trainval() must return train_data, train_label, "
                       "val_data, val_label")
    out, meta = {}, {'lengths': {}, 'widths': {}, 'containers': {}, 'label_kinds': {},
                     'given_loader': fast is not None}
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
    out, kinds, arrays_returned = {}, {'data': set(), 'label': set()}, True
    for i, call in enumerate(params['calls']):
        n = call.get('n') or len(arrays['label'])  # the first n examples
        # Fresh copies for every call: code that shuffles its inputs in place
        # must not change what the next call is given.
        data, label = arrays['data'][:n].copy(), arrays['label'][:n].astype(np.int64)
        if call.get('as_list'):
            data, label = data.tolist(), label.tolist()
        result = generate(data, label, batch_size=call['batch_size'], shuffle=call['shuffle'],
                          seed=call['seed'])
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Unusable("generate_batched_data() must return (batched_data, batched_label)")
        batches, labels = list(result[0]), list(result[1])
        if len(batches) != len(labels):
            raise Unusable(f"{len(batches)} data batches but {len(labels)} label batches")
        # What the batches are, as returned (before anything here converts them).
        kinds['data'].update(type(b).__name__[:40] for b in batches[:1000])
        kinds['label'].update(type(b).__name__[:40] for b in labels[:1000])
        arrays_returned = arrays_returned and all(isinstance(b, np.ndarray)
                                                  for b in batches + labels)
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
    return out, {'arrays': arrays_returned,
                 'types': {k: sorted(v)[:4] for k, v in kinds.items()}}


def probe_plot(params, arrays):
    """plot_curves on given histories: every figure it made, described and rendered.

    Figures are captured through matplotlib (pyplot's open figures, and the
    returned Figure if any), so both APIs work: the kit's (one figure, saved
    to save_path and returned) and the course's (two pyplot figures, shown,
    nothing returned). pyplot behaves as in a notebook, where the course's
    code was written to run: show() ends the figures drawn so far (the next
    plot starts a new one), and a figure saved to a relative path whose
    folder the submission did not carry (images/loss.png) is saved anyway;
    saving anywhere else is not judged (a failure is noted). Each figure is
    rendered to PNG here; the judge decodes the images and checks them
    against the description.
    """
    import warnings
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.figure
    import matplotlib.pyplot as plt
    warnings.filterwarnings('ignore')
    plt.close('all')
    history = [arrays[k].tolist() for k in ('train_loss', 'train_acc', 'valid_loss', 'valid_acc')]
    saved_path = os.path.join(os.getcwd(), 'curves.png')
    dpi = 50

    def capture(fig):
        """(description, {key suffix: array}) of one figure, rendered now."""
        if not hasattr(fig.canvas, 'get_renderer'):
            FigureCanvasAgg(fig)  # a closed pyplot figure has lost its canvas
        buffer = io.BytesIO()
        real_savefig(fig, buffer, format='png', dpi=dpi)
        arrays = {'png': np.frombuffer(buffer.getvalue()[:4 * 2**20], dtype=np.uint8)}
        renderer = fig.canvas.get_renderer()
        height = fig.get_size_inches()[1] * dpi
        every = fig.get_axes()
        axes = []
        for a, ax in enumerate(every[:MAX_AXES]):
            box = ax.get_window_extent(renderer)
            scale = dpi / fig.dpi
            legend = ax.get_legend() is not None or bool(fig.legends)
            lines = ax.get_lines()[:MAX_LINES]
            for j, line in enumerate(lines):
                y = np.asarray(line.get_ydata(), dtype=np.float64).reshape(-1)[:MAX_POINTS]
                arrays[f'y_{a}_{j}'] = y
            # Panels sharing an axis (sharex=True) are labelled once, on the
            # outer panel: that label is this panel's too.
            siblings = {'x': ax.get_shared_x_axes().get_siblings(ax),
                        'y': ax.get_shared_y_axes().get_siblings(ax)}
            shared = {k: next((str(getattr(o, f'get_{k}label')())[:200] for o in others
                               if o is not ax and str(getattr(o, f'get_{k}label')()).strip()), '')
                      for k, others in siblings.items()}
            axes.append({'xlabel': str(ax.get_xlabel())[:200], 'ylabel': str(ax.get_ylabel())[:200],
                         'shared_xlabel': shared['x'], 'shared_ylabel': shared['y'],
                         'title': str(ax.get_title())[:200], 'legend': bool(legend),
                         'lines': len(lines),
                         'box': [float(box.x0 * scale), float(height - box.y1 * scale),
                                 float(box.x1 * scale), float(height - box.y0 * scale)]})
        return {'axes': axes, 'suptitle': str(getattr(fig, '_suptitle', None) and
                                              fig._suptitle.get_text() or '')[:200]}, arrays

    # A figure is judged as it was last drawn: code that saves a figure and
    # then closes it (plt.close) or clears it for the next plot (plt.clf,
    # fig.clear) is right too. Figures closed during the call are kept, and a
    # figure about to be cleared is captured first.
    import matplotlib._pylab_helpers
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    closed, before_clear, save_notes = [], [], []
    real = (plt.close, plt.show, matplotlib.figure.Figure.clear, matplotlib.figure.Figure.savefig)
    real_close, _, real_clear, real_savefig = real

    def close(*args, **kwargs):
        for manager in matplotlib._pylab_helpers.Gcf.get_all_fig_managers():
            if manager.canvas.figure not in closed:
                closed.append(manager.canvas.figure)
        return real_close(*args, **kwargs)

    def show(*args, **kwargs):
        close('all')  # a notebook shows the figures, and the next plot starts afresh

    def clear(self, *args, **kwargs):
        if self.get_axes() and len(before_clear) < MAX_PLOT_FIGURES:
            before_clear.append(capture(self))
        return real_clear(self, *args, **kwargs)

    def savefig(self, fname, *args, **kwargs):
        try:
            return real_savefig(self, fname, *args, **kwargs)
        except OSError as err:
            if not isinstance(fname, (str, os.PathLike)) or \
                    os.path.abspath(os.fspath(fname)) == saved_path:
                raise  # save_path itself is judged
            folder = os.path.dirname(os.fspath(fname))
            if isinstance(err, FileNotFoundError) and folder and not os.path.isabs(folder):
                os.makedirs(folder, exist_ok=True)  # a folder the student had beside the code
                return real_savefig(self, fname, *args, **kwargs)
            if len(save_notes) < 4:
                save_notes.append(f"{type(err).__name__}: {err}"[:200])

    plt.close, plt.show = close, show
    matplotlib.figure.Figure.clear, matplotlib.figure.Figure.savefig = clear, savefig
    module, aliased = None, {}
    try:
        module = utils()
        # `from matplotlib.pyplot import show` in utils.py bound the real ones.
        aliased = {name: value for name, value in vars(module).items()
                   if value is real[0] or value is real[1]}
        vars(module).update({name: close if value is real[0] else show
                             for name, value in aliased.items()})
        plot_curves = module.plot_curves
        try:
            parameters = inspect.signature(plot_curves).parameters
            takes_path = 'save_path' in parameters or any(
                p.kind == p.VAR_KEYWORD for p in parameters.values())
        except (TypeError, ValueError):
            takes_path = False
        returned = plot_curves(*history, save_path=saved_path) if takes_path else \
            plot_curves(*history)
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
                'takes_save_path': takes_path, 'save_errors': save_notes}
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
    finally:
        plt.close, plt.show = real[0], real[1]
        matplotlib.figure.Figure.clear, matplotlib.figure.Figure.savefig = real[2], real[3]
        if module is not None:
            vars(module).update(aliased)
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


def train(package, params, data, initial=None, after_epoch=None, checkpoint=None):
    """Train a fresh model with SGD; return its trained weights. Trusted loop.

    The judge grades a student's model (and optimizer) with this loop, not the
    student's own train(), so a bug in utils.py costs only the tests of
    utils.py. Calibration runs the reference through the same function.

    Args:
        package: (model class, SGD class or None for TrustedSGD).
        params: hidden_size, batch_size, learning_rate, reg, epochs, seed,
            model, helpers (helper names to replace with trusted versions).
        data: images (N, 784) float32, labels (N,) int64.
        initial: {'w:NAME': array} weights to start from (the assignment's
            given initialisation, drawn by the judge), or None for the model's own.
        after_epoch: after_epoch(epoch, weights) -> True to stop training there.
        checkpoint: (batches, callback): callback(weights) -> True to stop
            training after that many updates of the first epoch.

    Returns:
        {name: ndarray}: the model's weights when training ended.
    """
    model_cls, sgd_cls = package
    kwargs = {'hidden_size': params['hidden_size']} if params['model'] == 'TwoLayerNet' else {}
    model = model_cls(**kwargs)
    if initial:
        set_weights(model, initial)
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
    check_at, at_checkpoint = checkpoint or (0, None)
    with Patched(model, trusted_helpers(params.get('helpers', ()))):
        for epoch in range(params['epochs']):
            order = rng.permutation(len(X))
            for step, start in enumerate(range(0, len(X), batch), 1):
                index = order[start:start + batch]
                _zero_gradients(model)
                model.forward(X[index], y[index])
                optimizer.update(model)
                if epoch == 0 and step == check_at and at_checkpoint(model.weights):
                    return dict(model.weights)
            if after_epoch is not None and after_epoch(epoch + 1, model.weights):
                break
    return dict(model.weights)


def _weights_out(weights):
    return {'w:' + str(k)[:32]: as_array(v, f"weights['{k}']")
            for k, v in list(weights.items())[:8]}


def probe_train(params, arrays):
    """Train with the trusted loop on the judge's secret training split.

    The starting weights are the request's. Where the judge listens
    ($SANDBOX_CONTROL_FD), the weights go to it as a progress frame after
    params['checkpoint'] updates of the first epoch (when set) and after
    every epoch, and training waits for its word: b's' (the verdict is
    decided: stop) or anything else (go on).
    """
    folder = os.environ['PROBE_TRAIN_DIR']
    data = {name: np.load(os.path.join(folder, name + '.npy'), mmap_mode='r')
            for name in ('images', 'labels')}
    sgd = sgd_class() if params.get('optimizer', 'own') == 'own' else None
    control = os.environ.get('SANDBOX_CONTROL_FD')
    after_epoch = checkpoint = None
    if control is not None and PAYLOAD_FD is not None:
        def report(weights, meta):
            try:
                _frame(PAYLOAD_FD, PROGRESS + _encode(_weights_out(weights), meta))
            except Unusable:
                return False  # judged from the final answer, which says why
            return os.read(int(control), 1) == b's'

        def after_epoch(epoch, weights):
            return report(weights, {'epoch': epoch})

        if params.get('checkpoint'):
            checkpoint = (params['checkpoint'],
                          lambda weights: report(weights, {'batches': params['checkpoint']}))
    weights = train((model_class(params['model']), sgd), params, data,
                    {k: v for k, v in arrays.items() if k.startswith('w:')}, after_epoch,
                    checkpoint)
    return _weights_out(weights), {}


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

    probes.py PACKAGE -: the request paths come from stdin, one per line,
    until it closes (the reference's long-lived process, reference_process.py).
    """
    global PACKAGE, PAYLOAD_FD
    PACKAGE = os.path.realpath(sys.argv[1])
    fd = PAYLOAD_FD = int(os.environ['SANDBOX_PAYLOAD_FD'])
    sys.path.insert(0, PACKAGE)
    if os.environ.get('PROBE_ALLOWED_MODULES'):
        sys.meta_path.insert(0, OnlyTheseLibraries(os.environ['PROBE_ALLOWED_MODULES'].split(',')))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    _matplotlib_font_cache()
    requests = sys.argv[2:]
    if requests == ['-']:
        requests = (line.rstrip('\n') for line in sys.stdin)
    for request_path in requests:
        _frame(fd, b'')  # "this request starts": the judge knows whose run ended it
        try:
            payload = _answer(request_path)
        except BaseException as err:  # e.g. an answer that cannot be encoded
            payload = _error(err, 'returned')
        _frame(fd, payload)
    os.close(fd)


def _matplotlib_font_cache():
    """Copy the judge's prebuilt font cache ($PROBE_MPL_CACHE) where matplotlib may write.

    Before any request: the course's utils.py imports pyplot at its top, so
    the first test that imports it (data.split), not plot_curves, would
    otherwise pay for matplotlib building its font list (about 1.5 s of CPU).
    """
    cache, config = os.environ.get('PROBE_MPL_CACHE'), os.environ.get('MPLCONFIGDIR')
    if cache and config:
        import shutil
        try:
            shutil.copytree(cache, config, dirs_exist_ok=True)
        except OSError:  # a full tmpfs, say: matplotlib then builds its own, slower, same answers
            pass


def _frame(fd, payload):
    view = memoryview(len(payload).to_bytes(8, 'little') + payload)
    while view:
        view = view[os.write(fd, view):]


if __name__ == '__main__':
    main()
