"""Train a model from a config and report its learning curves and test accuracy.

Usage, from this folder:

    python train.py configs/config_twolayer.yaml [--epochs N] [--seed S] [--out DIR]
                    [--blas-threads N]

Before training, each function the run needs is tried once on a tiny input, and
every one that is still a TODO is named (nothing is trained then). Each epoch
prints the training and validation loss and accuracy. At the end the weights of
the epoch with the best validation accuracy are evaluated on the test set, and
the learning curves are saved to DIR/<config name>_curves.png.

An error in your code shows the lines of your own files that led to it; a bad
config, a missing or corrupt MNIST file, or a bad option is one line. Exit
status: 0 done, 1 an error in your code or a TODO left, 2 a usage, config or
data error.

Training uses one BLAS thread (--blas-threads N, or the environment variable
HW1_BLAS_THREADS, sets another number; 0 leaves the BLAS library's default).

The notebook and the report use `run_experiment`, the same code path.
"""
import argparse
import contextlib
import fnmatch
import io
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from config import ConfigError, load_config, validate_config
from models import SoftmaxRegression, TwoLayerNet
from optimizer import SGD
from utils import (DataError, DataNotFoundError, blas_threads, evaluate,
                   generate_batched_data, limit_blas_threads, load_mnist_test,
                   load_mnist_trainval, plot_curves, train, use_data_precision)

PACKAGE = Path(__file__).resolve().parent
# How the stubs' NotImplementedError messages read: "<name> is not implemented
# yet: see the TODO in <file>".
STUB_MARK = ' is not implemented yet'
MODEL_FILES = {'SoftmaxRegression': 'models/softmax_regression.py',
               'TwoLayerNet': 'models/two_layer_nn.py'}


@dataclass
class Experiment:
    """What one training run produced.

    Attributes:
        config: the config it ran with.
        model: the model, holding the weights of the best validation epoch.
        train_loss, train_acc, valid_loss, valid_acc: one float per epoch.
        seconds_per_epoch: wall time of each epoch's training pass.
        best_epoch: 1-based epoch with the highest validation accuracy.
        test_loss, test_acc: the best epoch's weights on the test set.
    """
    config: dict
    model: object
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    valid_loss: list = field(default_factory=list)
    valid_acc: list = field(default_factory=list)
    seconds_per_epoch: list = field(default_factory=list)
    best_epoch: int = 0
    test_loss: float = float('nan')
    test_acc: float = float('nan')


def build_model(config):
    """The model a config's Model section describes, freshly initialised."""
    spec = config['Model']
    if spec['type'] == 'TwoLayerNet':
        return TwoLayerNet(hidden_size=spec['hidden_size'])
    return SoftmaxRegression()


def load_data():
    """(train_data, train_label, val_data, val_label, test_data, test_label)."""
    return load_mnist_trainval() + load_mnist_test()


def run_experiment(config, data=None, epochs=None, seed=0, verbose=True, blas_threads=None):
    """Train the model of `config` with SGD; keep the best validation epoch.

    Args:
        config: a config dict or the path of a YAML config.
        data: the six arrays of load_data(), to share one load among runs;
            None loads MNIST.
        epochs: overrides config['Train']['epochs'] when given (an int >= 1).
        seed: seeds the shuffling of the training set (epoch e uses seed + e).
        verbose: print one line per epoch.
        blas_threads: BLAS threads for training and evaluation; None for
            $HW1_BLAS_THREADS, else 1 (see utils.limit_blas_threads).

    Returns:
        Experiment with the learning curves and the test accuracy.
    """
    if isinstance(config, dict):
        config = validate_config(config)
    else:
        config = load_config(config)
    settings = config['Train']
    epochs = settings['epochs'] if epochs is None else epochs
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    with limit_blas_threads(blas_threads):
        return _run(config, data, epochs, seed, verbose, blas_threads)


def _run(config, data, epochs, seed, verbose, threads):
    """run_experiment's training loop, with its arguments checked."""
    settings = config['Train']
    debug = settings['debug']
    train_data, train_label, val_data, val_label, test_data, test_label = (
        load_data() if data is None else data)

    model = build_model(config)
    optimizer = SGD(learning_rate=settings['learning_rate'], reg=settings['reg'])
    batch_size = settings['batch_size']
    val_batches = generate_batched_data(val_data, val_label, batch_size)
    result = Experiment(config=config, model=model)
    best_weights, best_acc = None, -1.0
    for epoch in range(1, epochs + 1):
        batches = generate_batched_data(train_data, train_label, batch_size,
                                        shuffle=True, seed=seed + epoch)
        start = time.perf_counter()
        loss, acc = train(epoch, *batches, model, optimizer, debug=debug,
                          blas_threads=threads)
        result.seconds_per_epoch.append(time.perf_counter() - start)
        del batches  # the shuffled copy of the training set: free it before the next
        valid_loss, valid_acc = evaluate(*val_batches, model, debug=debug,
                                         blas_threads=threads)
        for name, value in (('train_loss', loss), ('train_acc', acc),
                            ('valid_loss', valid_loss), ('valid_acc', valid_acc)):
            getattr(result, name).append(value)
        if valid_acc > best_acc:
            best_acc, result.best_epoch = valid_acc, epoch
            best_weights = {k: v.copy() for k, v in model.weights.items()}
        if verbose:
            print(f"epoch {epoch:2d}/{epochs}  train loss {loss:.4f} acc {acc:.4f}  "
                  f"val loss {valid_loss:.4f} acc {valid_acc:.4f}  "
                  f"({result.seconds_per_epoch[-1]:.2f} s)", flush=True)
    if best_weights is not None:
        model.weights = best_weights
    result.test_loss, result.test_acc = evaluate(
        *generate_batched_data(test_data, test_label, batch_size), model, debug=debug,
        blas_threads=threads)
    return result


# -- before training: what is still a TODO ------------------------------------

def _todo_named(err, fallback):
    """(file, name) of a stub's NotImplementedError, else `fallback`."""
    text = str(err)
    if STUB_MARK in text:
        name, _, rest = text.partition(STUB_MARK)
        where = rest.rpartition('the TODO in ')[2].strip()
        return (where or fallback[0], name.strip())
    return fallback


@contextlib.contextmanager
def _quietly():
    """Hide what probed code prints or warns, and keep numpy's global RNG as it was."""
    state = np.random.get_state()
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings(record=True):
            yield
    finally:
        np.random.set_state(state)


def _probe(call, fallback):
    """Run call(); the TODO it hits as (file, name), or None.

    Only NotImplementedError counts: any other error is left for the real run
    to show with its traceback, since a tiny input may upset correct code.
    """
    try:
        with _quietly():
            call()
    except NotImplementedError as err:
        return _todo_named(err, fallback)
    except Exception:  # noqa: BLE001 - see the docstring
        return None
    return None


def find_todos(config, split_todo=None):
    """The functions still left as TODOs, from one quick call of each.

    Args:
        config: a checked config (its model and optimizer are probed).
        split_todo: what loading the data reported, if its split is a TODO.

    Returns:
        needed: (file, name) of every TODO this run cannot train without.
        optional: plot_curves if it is a TODO (the run still trains and tests).
        other: TODOs left that this run's code did not reach.
    """
    rng = np.random.default_rng(0)
    X = rng.random((4, 784), dtype=np.float32)
    y = np.array([0, 3, 7, 9])
    settings = config['Train']
    needed = [split_todo] if split_todo else []
    needed.append(_probe(lambda: generate_batched_data(X, y, 2, shuffle=True, seed=0),
                         ('utils.py', 'generate_batched_data')))
    try:
        with _quietly():
            model = build_model(config)
            use_data_precision(model, X)
    except Exception:  # noqa: BLE001 - the real run will show it
        return [t for t in needed if t], [], []
    kind = type(model).__name__
    needed.append(_probe(lambda: model.forward(X, y, mode='train'),
                         (MODEL_FILES.get(kind, 'models/'), f'{kind}.forward')))
    optimizer = SGD(learning_rate=settings['learning_rate'], reg=settings['reg'])
    needed.append(_probe(lambda: optimizer.update(model), ('optimizer/sgd.py', 'SGD.update')))

    def plot():
        # save_path=None draws without saving (an implementation that cannot
        # take None raises something other than NotImplementedError: ignored).
        fig = plot_curves([1.0, 0.5], [0.5, 0.8], [1.1, 0.6], [0.4, 0.7], save_path=None)
        if 'matplotlib.pyplot' in sys.modules and fig is not None:
            sys.modules['matplotlib.pyplot'].close(fig)

    optional = [_probe(plot, ('utils.py', 'plot_curves'))]
    P = np.full((4, 10), 0.1)
    helpers = [
        (lambda: model.softmax(P), 'softmax'),
        (lambda: model.cross_entropy_loss(P, y), 'cross_entropy_loss'),
        (lambda: model.compute_accuracy(P, y), 'compute_accuracy'),
        (lambda: model.sigmoid(X), 'sigmoid'), (lambda: model.sigmoid_dev(X), 'sigmoid_dev'),
        (lambda: model.ReLU(X), 'ReLU'), (lambda: model.ReLU_dev(X), 'ReLU_dev'),
    ]
    other = [_probe(lambda: optimizer.apply_regularization(model),
                    ('optimizer/_base_optimizer.py', 'apply_regularization'))]
    other += [_probe(call, ('models/_base_network.py', name)) for call, name in helpers]
    needed = list(dict.fromkeys(t for t in needed if t))
    optional = [t for t in optional if t]
    other = list(dict.fromkeys(t for t in other if t and t not in needed))
    return needed, optional, other


def _by_file(todos):
    """Lines '  file: name, name' for a list of (file, name)."""
    files = {}
    for where, name in todos:
        files.setdefault(where, []).append(name)
    return '\n'.join(f"  {where}: {', '.join(names)}" for where, names in files.items())


# -- errors --------------------------------------------------------------------

def _student_files():
    """A predicate: is this path one of the files students write?

    Those are the files submission_files.txt lists (plain paths and globs).
    """
    try:
        lines = (PACKAGE / 'submission_files.txt').read_text().splitlines()
    except OSError:
        lines = []
    entries = [line.split('#', 1)[0].strip() for line in lines]  # '#' starts a comment
    entries = [e for e in entries if e and e.split()[0] != 'limit']

    def is_student(filename):
        try:
            rel = Path(filename).resolve().relative_to(PACKAGE).as_posix()
        except (ValueError, OSError):
            return False
        return any(rel == e or (fnmatch.fnmatchcase(rel, e) and rel.count('/') == e.count('/'))
                   for e in entries)

    return is_student


def report_error(err, file=None):
    """Print an exception with the frames of the student's own files only.

    Frames of train.py, numpy and the standard library are left out; when no
    frame is in a student file, the whole traceback is shown.
    """
    file = file or sys.stderr
    is_student = _student_files()
    frames = traceback.extract_tb(err.__traceback__)
    mine = [f for f in frames if is_student(f.filename)]
    print("train.py: error in your code (your files only, most recent call last):",
          file=file)
    if mine:
        file.write(''.join(traceback.format_list(mine)))
        file.write(''.join(traceback.format_exception_only(type(err), err)))
    else:
        file.write(''.join(traceback.format_exception(type(err), err, err.__traceback__)))
    file.flush()


# -- the command line ------------------------------------------------------------

def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return value
    return parse


def _fail(message, status=2):
    print(f"train.py: error: {message}", file=sys.stderr)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help="YAML config, e.g. configs/config_twolayer.yaml")
    parser.add_argument('--epochs', type=_int_at_least(1),
                        help="override the config's epochs (an integer >= 1)")
    parser.add_argument('--seed', type=_int_at_least(0), default=0,
                        help="shuffling seed, an integer >= 0 (default 0)")
    parser.add_argument('--out', default='results',
                        help="folder for the learning-curve PNG (default: results)")
    parser.add_argument('--blas-threads', type=_int_at_least(0),
                        metavar='N', help="BLAS threads for training (default: "
                        "$HW1_BLAS_THREADS, else 1; 0 = the BLAS library's default)")
    args = parser.parse_args(argv)
    try:
        blas_threads(args.blas_threads)
    except ValueError as err:
        parser.error(str(err))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {args.out}: exists and is not a folder")

    try:
        config = load_config(args.config)
    except ConfigError as err:
        return _fail(err)
    except (OSError, UnicodeDecodeError) as err:
        return _fail(f"cannot read config {args.config}: {getattr(err, 'strerror', None) or err}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return _fail(f"--out {args.out}: cannot create the folder ({err.strerror or err})")

    split_todo = None
    try:
        data = load_data()
    except (DataNotFoundError, DataError) as err:
        return _fail(err)
    except NotImplementedError as err:
        data, split_todo = None, _todo_named(err, ('utils.py', 'load_mnist_trainval'))
    except Exception as err:  # noqa: BLE001 - a bug in the student's split
        report_error(err)
        return 1

    needed, optional, other = find_todos(config, split_todo)
    if needed:
        print(f"train.py: {len(needed)} function(s) this run needs are still TODOs (each "
              f"raises NotImplementedError); nothing was trained:", file=sys.stderr)
        print(_by_file(needed), file=sys.stderr)
        if other + optional:
            print("Also left:", file=sys.stderr)
            print(_by_file(other + optional), file=sys.stderr)
        print("Each TODO says what to compute; `python -m pytest` checks them one by one.",
              file=sys.stderr)
        return 1
    for where, name in optional:
        print(f"train.py: warning: {name} ({where}) is still a TODO: training goes ahead "
              f"and reports the test accuracy, but saves no learning curves", file=sys.stderr)
    if other:
        print("train.py: warning: TODOs left that this run does not use:", file=sys.stderr)
        print(_by_file(other), file=sys.stderr)

    try:
        result = run_experiment(config, data=data, epochs=args.epochs, seed=args.seed,
                                blas_threads=args.blas_threads)
    except Exception as err:  # noqa: BLE001 - shown with the student's frames
        report_error(err)
        return 1
    per_epoch = sum(result.seconds_per_epoch) / len(result.seconds_per_epoch)
    print(f"best validation accuracy {result.valid_acc[result.best_epoch - 1]:.4f} "
          f"at epoch {result.best_epoch}; test accuracy of that model "
          f"{result.test_acc:.4f}")
    print(f"mean training time per epoch {per_epoch:.2f} s", flush=True)
    if optional:
        print("no learning curves saved: plot_curves is still a TODO", file=sys.stderr)
        return 0
    curves = out / f"{Path(args.config).stem}_curves.png"
    try:
        plot_curves(result.train_loss, result.train_acc, result.valid_loss, result.valid_acc,
                    save_path=str(curves))
    except Exception as err:  # noqa: BLE001
        report_error(err)
        return 1
    print(f"curves saved to {curves}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
