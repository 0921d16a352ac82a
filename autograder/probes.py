"""Exercise a package's code on given inputs; runs inside the sandbox.

    python -I -S -B probes.py PACKAGE_DIR REQUEST.json [REQUEST.json ...]

The judge runs this file, in a sandboxed child, against a student's package
(and, unsandboxed, against the reference solution). It imports the package,
calls what each request names on the request's arrays, and writes each result
as an .npz archive, in a length-prefixed frame, to the descriptor
$SANDBOX_PAYLOAD_FD. It holds no expected
value and no hidden input: those stay with the judge. Whatever it returns is
untrusted: the student's code runs in this same process and can change
anything here, so the judge validates every array it gets back.

The archive holds plain arrays; '__meta__' is a uint8 array of UTF-8 JSON with
non-array facts (texts, flags) and, when the code under test raised,
{"error": "...", "where": [...]}.
"""
import importlib
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


def _model_class(name):
    return getattr(importlib.import_module('models'), name)


def _set_weights(model, arrays):
    for key, value in arrays.items():
        if key.startswith('w:'):
            model.weights[key[2:]] = np.array(value, dtype=np.float64)


def probe_call(params, arrays):
    """A method of _baseNetwork on the request's arrays: {'out': result}."""
    net = _model_class('_baseNetwork')()
    args = [arrays[name] for name in params['args']]
    return {'out': getattr(net, params['method'])(*args)}, {}


def _numeric_gradients(model, X, y, eps):
    out = {}
    for name, weight in model.weights.items():
        weight = model.weights[name] = np.array(weight, dtype=np.float64)
        grad = np.zeros_like(weight)
        for index in np.ndindex(weight.shape):
            saved = weight[index]
            weight[index] = saved + eps
            plus = model.forward(X, y, mode='valid')[0]
            weight[index] = saved - eps
            minus = model.forward(X, y, mode='valid')[0]
            weight[index] = saved
            grad[index] = (float(plus) - float(minus)) / (2 * eps)
        out['n:' + name] = grad
    return out


def probe_model(params, arrays):
    """Loss, accuracy and gradients of a model with given weights on (X, y)."""
    kwargs = {'input_size': params['input_size'], 'num_classes': params['num_classes']}
    if 'hidden_size' in params:
        kwargs['hidden_size'] = params['hidden_size']
    model = _model_class(params['model'])(**kwargs)
    _set_weights(model, arrays)
    X, y = arrays['X'], arrays['y'].astype(np.int64)
    loss, accuracy = model.forward(X, y, mode='train')
    out = {'loss': loss, 'accuracy': accuracy}
    out.update({'g:' + k: v for k, v in model.gradients.items()})
    if params.get('numeric_eps'):
        out.update(_numeric_gradients(model, X, y, params['numeric_eps']))
    return out, {'gradient_names': sorted(model.gradients)}


def probe_optimizer(params, arrays):
    """apply_regularization or update on a bare model: the new weights and gradients."""
    model = types.SimpleNamespace(
        weights={k[2:]: np.array(v) for k, v in arrays.items() if k.startswith('w:')},
        gradients={k[2:]: np.array(v) for k, v in arrays.items() if k.startswith('g:')})
    optimizer = importlib.import_module('optimizer').SGD(
        learning_rate=params['learning_rate'], reg=params['reg'])
    getattr(optimizer, params['op'])(model)
    out = {'w:' + k: v for k, v in model.weights.items()}
    out.update({'g:' + k: v for k, v in model.gradients.items()})
    return out, {}


def probe_split(params, arrays):
    """load_mnist_trainval() on the training files: labels, row sums, shapes, dtypes."""
    parts = importlib.import_module('utils').load_mnist_trainval()
    names = ('train_data', 'train_label', 'val_data', 'val_label')
    out, meta = {}, {'shapes': {}, 'dtypes': {}}
    for name, value in zip(names, parts):
        value = np.asarray(value)
        meta['shapes'][name] = list(value.shape)
        meta['dtypes'][name] = str(value.dtype)
        out[name if 'label' in name else name + '_rowsum'] = (
            value if 'label' in name else value.reshape(len(value), -1).sum(axis=1, dtype=np.float64))
    return out, meta


def probe_batching(params, arrays):
    """generate_batched_data for each call in params['calls']: batches, concatenated."""
    generate = importlib.import_module('utils').generate_batched_data
    out = {}
    for i, call in enumerate(params['calls']):
        data, label = arrays['data'], arrays['label']
        if call.get('as_list'):
            data, label = data.tolist(), label.tolist()
        batches, labels = generate(data, label, batch_size=call['batch_size'],
                                   shuffle=call['shuffle'], seed=call['seed'])
        out[f'sizes{i}'] = np.array([len(b) for b in batches])
        out[f'label_sizes{i}'] = np.array([len(b) for b in labels])
        out[f'data{i}'] = np.concatenate([np.asarray(b, dtype=np.float64).reshape(len(b), -1)
                                          for b in batches])
        out[f'label{i}'] = np.concatenate([np.asarray(b) for b in labels])
    return out, {}


def probe_plot(params, arrays):
    """plot_curves on given histories: the figure's structure and the saved PNG."""
    import shutil
    if os.environ.get('PROBE_MPL_CACHE') and os.environ.get('MPLCONFIGDIR'):
        # The judge's prebuilt font cache, copied where matplotlib may write.
        shutil.copytree(os.environ['PROBE_MPL_CACHE'], os.environ['MPLCONFIGDIR'],
                        dirs_exist_ok=True)
    import matplotlib
    matplotlib.use('Agg')
    history = [arrays[k].tolist() for k in ('train_loss', 'train_acc', 'valid_loss', 'valid_acc')]
    path = os.path.join(os.getcwd(), 'curves.png')
    fig = importlib.import_module('utils').plot_curves(*history, save_path=path)
    axes = []
    out = {}
    for i, ax in enumerate(fig.get_axes()):
        axes.append({'xlabel': ax.get_xlabel(), 'ylabel': ax.get_ylabel(),
                     'title': ax.get_title(), 'legend': ax.get_legend() is not None,
                     'lines': len(ax.get_lines())})
        for j, line in enumerate(ax.get_lines()):
            out[f'y{i}_{j}'] = np.asarray(line.get_ydata(), dtype=np.float64)
    png = b''
    if os.path.exists(path):
        with open(path, 'rb') as f:
            png = f.read(8)
    return out, {'axes': axes, 'png_header': png.hex(), 'png_bytes': os.path.getsize(path)
                 if os.path.exists(path) else 0}


def train_and_predict(package, params, data, verbose=False):
    """Train a fresh model with SGD and predict the given images. Trusted loop.

    The judge grades a student's model and optimizer with this loop, not the
    student's own train(), so a bug in utils.py costs only the tests of
    utils.py. Calibration runs the reference through the same function.

    Args:
        package: (models module, optimizer module).
        params: model ('SoftmaxRegression' or 'TwoLayerNet'), hidden_size,
            batch_size, learning_rate, reg, epochs, seed.
        data: train_images (N, 784) float32, train_labels (N,) int64,
            test_images (M, 784) float32.

    Returns:
        predictions: (M,) int64, the predicted class of each test image.
    """
    models, optimizer = package
    kwargs = {'hidden_size': params['hidden_size']} if params['model'] == 'TwoLayerNet' else {}
    model = getattr(models, params['model'])(**kwargs)
    sgd = optimizer.SGD(learning_rate=params['learning_rate'], reg=params['reg'])
    X, y = data['train_images'], data['train_labels']
    # Train in the data's precision, as utils.train does: float32 weights make
    # every product and update float32 (models start in float64 for gradchecks).
    for name, weight in model.weights.items():
        model.weights[name] = np.asarray(weight).astype(X.dtype, copy=False)
    rng = np.random.default_rng(params['seed'])
    batch = params['batch_size']
    for epoch in range(params['epochs']):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            index = order[start:start + batch]
            model.forward(X[index], y[index], mode='train')
            sgd.update(model)
        if verbose:
            print(f"epoch {epoch + 1} done", flush=True)
    return _predict(model, data['test_images'], batch)


def _predict(model, images, batch):
    """Predicted classes from the model's own forward pass.

    forward() needs labels and returns only the loss and accuracy, so the
    probabilities are caught on their way through model.softmax.
    """
    caught = []
    original = model.softmax

    def catching(scores):
        prob = original(scores)
        caught.append(np.asarray(prob))
        return prob

    model.softmax = catching
    predictions = []
    dummy = np.zeros(batch, dtype=np.int64)
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        caught.clear()
        model.forward(chunk, dummy[:len(chunk)], mode='valid')
        if len(caught) != 1 or caught[0].shape[0] != len(chunk):
            raise RuntimeError("forward() must call self.softmax exactly once on the "
                               "batch's scores")
        predictions.append(np.argmax(caught[0], axis=1))
    return np.concatenate(predictions).astype(np.int64)


def probe_train(params, arrays):
    """Train with the trusted loop on the judge's data; predictions for its images."""
    folder = os.environ['PROBE_DATA_DIR']
    data = {name: np.load(os.path.join(folder, name + '.npy'), mmap_mode='r')
            for name in ('train_images', 'train_labels', 'test_images')}
    package = (importlib.import_module('models'), importlib.import_module('optimizer'))
    return {'predictions': train_and_predict(package, params, data)}, {}


PROBES = {name[len('probe_'):]: fn for name, fn in globals().items()
          if name.startswith('probe_')}


def _where(tb):
    """The traceback's frames in the package's files, as 'file:line in function'."""
    frames = []
    for frame in traceback.extract_tb(tb):
        if PACKAGE and frame.filename.startswith(PACKAGE + os.sep):
            rel = os.path.relpath(frame.filename, PACKAGE)
            frames.append(f"{rel}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()}")
    return frames[-5:]


def _encode(out, meta):
    arrays = {}
    for key, value in out.items():
        arrays[key] = np.asarray(value)
        if arrays[key].dtype == object:
            raise TypeError(f"{key}: returned a {type(value).__name__}, not numbers")
    arrays['__meta__'] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


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
    except BaseException as err:  # SystemExit and KeyboardInterrupt from student code too
        kind = type(err).__name__
        message = str(err)
        if isinstance(err, SystemExit):
            message = f"the code called sys.exit({err.code!r})"
        return _encode({}, {'error': f"{kind}: {message}"[:600],
                            'where': _where(err.__traceback__)})


def main():
    """probes.py PACKAGE REQUEST.json [REQUEST.json ...]: one frame per request.

    A frame is the answer's length (8 bytes, little-endian) and the answer.
    The judge gives each request its own time limit; if one request crashes
    the process or runs out of time, the judge starts the rest in a new one.
    """
    global PACKAGE
    PACKAGE = os.path.realpath(sys.argv[1])
    fd = int(os.environ['SANDBOX_PAYLOAD_FD'])
    sys.path.insert(0, PACKAGE)
    for request_path in sys.argv[2:]:
        payload = _answer(request_path)
        view = memoryview(len(payload).to_bytes(8, 'little') + payload)
        while view:
            view = view[os.write(fd, view):]
    os.close(fd)


if __name__ == '__main__':
    main()
