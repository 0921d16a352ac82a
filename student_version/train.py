"""Train a model from a config and report its learning curves and test accuracy.

Usage, from this folder:

    python train.py configs/config_twolayer.yaml [--epochs N] [--seed S] [--out DIR]

Each epoch prints the training and validation loss and accuracy. At the end the
weights of the epoch with the best validation accuracy are evaluated on the test
set, and the learning curves are saved to DIR/<config name>_curves.png.

The notebook and the report use `run_experiment`, the same code path.
"""
import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from config import ConfigError, load_config, validate_config
from models import SoftmaxRegression, TwoLayerNet
from optimizer import SGD
from utils import (evaluate, generate_batched_data, load_mnist_test, load_mnist_trainval,
                   plot_curves, train)


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


def run_experiment(config, data=None, epochs=None, seed=0, verbose=True):
    """Train the model of `config` with SGD; keep the best validation epoch.

    Args:
        config: a config dict or the path of a YAML config.
        data: the six arrays of load_data(), to share one load among runs;
            None loads MNIST.
        epochs: overrides config['Train']['epochs'] when given.
        seed: seeds the shuffling of the training set (epoch e uses seed + e).
        verbose: print one line per epoch.

    Returns:
        Experiment with the learning curves and the test accuracy.
    """
    if isinstance(config, dict):
        config = validate_config(config)
    else:
        config = load_config(config)
    settings = config['Train']
    epochs = settings['epochs'] if epochs is None else epochs
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
        loss, acc = train(epoch, *batches, model, optimizer, debug=debug)
        result.seconds_per_epoch.append(time.perf_counter() - start)
        del batches  # the shuffled copy of the training set: free it before the next
        valid_loss, valid_acc = evaluate(*val_batches, model, debug=debug)
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
        *generate_batched_data(test_data, test_label, batch_size), model, debug=debug)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help="YAML config, e.g. configs/config_twolayer.yaml")
    parser.add_argument('--epochs', type=int, help="override the config's epochs")
    parser.add_argument('--seed', type=int, default=0, help="shuffling seed (default 0)")
    parser.add_argument('--out', default='results',
                        help="folder for the learning-curve PNG (default: results)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        result = run_experiment(config, epochs=args.epochs, seed=args.seed)
    except (ConfigError, FileNotFoundError, ValueError) as err:
        print(f"train.py: error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    curves = out / f"{Path(args.config).stem}_curves.png"
    plot_curves(result.train_loss, result.train_acc, result.valid_loss, result.valid_acc,
                save_path=str(curves))
    per_epoch = sum(result.seconds_per_epoch) / len(result.seconds_per_epoch)
    print(f"best validation accuracy {result.valid_acc[result.best_epoch - 1]:.4f} "
          f"at epoch {result.best_epoch}; test accuracy of that model "
          f"{result.test_acc:.4f}")
    print(f"mean training time per epoch {per_epoch:.2f} s; curves saved to {curves}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
