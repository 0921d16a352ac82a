"""Child-process tasks of the benchmark: `python -m bench.worker TASK JSON`.

Each task runs in a fresh interpreter (so one measurement never inherits
another's caches, threads or memory), times only the work it names, and
prints its result as one JSON line starting with core.RESULT_MARK. Imports
and set-up happen before the clock starts.
"""
import json
import sys
import time
from pathlib import Path

from .core import RESULT_MARK

clock = time.perf_counter


def _solutions(params):
    """Put the solutions package (or the one named in params) on the path."""
    path = str(Path(params['solutions']).resolve())
    if path not in sys.path:
        sys.path.insert(0, path)


def _touch(arrays):
    """Read one element of every 4 KiB page of each array (memory-mapped pages
    are only read from the file on first use); returns a checksum."""
    import numpy as np

    total = 0.0
    for array in arrays:
        flat = np.asarray(array).reshape(-1)
        step = max(1, 4096 // flat.itemsize)
        total += float(flat[::step].sum(dtype=np.float64))
    return total


def _blas_threads():
    """BLAS pools and their thread counts, when threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{'api': p.get('internal_api'), 'threads': p.get('num_threads')}
            for p in threadpool_info()]


# -- data ---------------------------------------------------------------------

def task_load_kit(params):
    """utils.load_mnist('train') and ('test'), then every page touched once."""
    _solutions(params)
    import utils  # imports numpy: before the clock, as in any training script

    cache = utils.mnist_dir() / 'cache'
    cached_before = any(cache.glob('*.npy'))
    start = clock()
    arrays = utils.load_mnist('train') + utils.load_mnist('test')
    loaded = clock() - start
    checksum = _touch(arrays)
    seconds = clock() - start
    return {'seconds': seconds, 'load_only': loaded, 'cached_before': cached_before,
            'examples': len(arrays[1]) + len(arrays[3]), 'checksum': checksum}


def task_load_csv(params):
    """The classic CSV loader on the train and test CSV files."""
    from .csv_loader import load_csv_lists

    start = clock()
    rows = 0
    for path in params['files']:
        images, labels = load_csv_lists(path)
        rows += len(labels)
        del images, labels
    return {'seconds': clock() - start, 'examples': rows}


# -- training -----------------------------------------------------------------

def _kit_setup(params):
    """The config, the model and the optimizer exactly as train.py builds them."""
    _solutions(params)
    from config import load_config
    from optimizer import SGD
    from train import build_model

    config = load_config(params['config'])
    settings = config['Train']
    model = build_model(config)
    optimizer = SGD(learning_rate=settings['learning_rate'], reg=settings['reg'])
    return config, model, optimizer


def _train_threads(utils, threads):
    """The keyword arguments that make utils.train use `threads` BLAS threads.

    utils.train limits BLAS to one thread unless told otherwise (through
    threadpoolctl); None here means the library's default (blas_threads=0),
    which the child's environment then decides (core.child_env). A solutions
    folder whose train() takes no blas_threads (an older one, through
    --baseline-solutions) gets no keyword: its threads are the environment's.
    """
    import inspect

    if 'blas_threads' not in inspect.signature(utils.train).parameters:
        return {}
    return {'blas_threads': 0 if threads is None else int(threads)}


class NumpyTrainer:
    """The solutions' model trained epoch by epoch through utils.train, as
    run_experiment does (batches reshuffled before each epoch, not timed)."""

    def __init__(self, params):
        self.config, self.model, self.optimizer = _kit_setup(params)
        import utils

        self.utils, self.seed = utils, params['seed']
        self.train_data, self.train_label, self.val_data, self.val_label = \
            utils.load_mnist_trainval()
        self.batch_size = self.config['Train']['batch_size']
        self.limit = params.get('batches')  # None: whole epochs
        self.thread_kwargs = _train_threads(utils, params.get('threads'))

    def epoch(self, number):
        batches = self.utils.generate_batched_data(self.train_data, self.train_label,
                                                   self.batch_size, shuffle=True,
                                                   seed=self.seed + number)
        if self.limit:
            batches = (batches[0][:self.limit], batches[1][:self.limit])
        start = clock()
        loss, acc = self.utils.train(number, *batches, self.model, self.optimizer,
                                     debug=False, **self.thread_kwargs)
        self.batches = len(batches[0])
        return clock() - start, loss, acc

    def finish(self):
        import numpy as np

        utils = self.utils
        _, val_acc = utils.evaluate(*utils.generate_batched_data(
            self.val_data, self.val_label, self.batch_size), self.model, debug=False)
        return {'val_acc': val_acc, 'batches': self.batches,
                'weights_dtype': str(np.asarray(self.model.weights['W1']).dtype),
                'examples': int(len(self.train_label)), 'blas': _blas_threads()}


class TorchTrainer:
    """The same network, batches, initial weights and SGD step in PyTorch on the CPU."""

    def __init__(self, params):
        config, kit_model, _ = _kit_setup(params)
        import numpy as np
        import torch
        import utils
        from torch import nn

        if params.get('threads'):
            torch.set_num_threads(params['threads'])
        self.np, self.torch, self.utils, self.seed = np, torch, utils, params['seed']
        settings, spec = config['Train'], config['Model']
        weights = {k: torch.from_numpy(np.asarray(v, dtype=np.float32).T.copy())
                   for k, v in kit_model.weights.items() if k.startswith('W')}
        if spec['type'] == 'TwoLayerNet':
            first = nn.Linear(weights['W1'].shape[1], weights['W1'].shape[0])
            second = nn.Linear(weights['W2'].shape[1], weights['W2'].shape[0])
            self.net = nn.Sequential(first, nn.Sigmoid(), second)
            with torch.no_grad():
                first.weight.copy_(weights['W1'])
                second.weight.copy_(weights['W2'])
                first.bias.zero_()
                second.bias.zero_()
            decayed, plain = [first.weight, second.weight], [first.bias, second.bias]
        else:
            first = nn.Linear(weights['W1'].shape[1], weights['W1'].shape[0], bias=False)
            self.net = nn.Sequential(first, nn.ReLU())
            with torch.no_grad():
                first.weight.copy_(weights['W1'])
            decayed, plain = [first.weight], []
        # The kit's L2 penalty applies to weight matrices only, as weight decay does here.
        groups = [{'params': decayed, 'weight_decay': settings['reg']}]
        if plain:
            groups.append({'params': plain, 'weight_decay': 0.0})
        self.optimizer = torch.optim.SGD(groups, lr=settings['learning_rate'])
        self.batch_size = settings['batch_size']
        self.train_data, self.train_label, self.val_data, self.val_label = \
            utils.load_mnist_trainval()

    def epoch(self, number):
        np, torch = self.np, self.torch
        from torch.nn import functional as F

        data, labels = self.utils.generate_batched_data(
            self.train_data, self.train_label, self.batch_size, shuffle=True,
            seed=self.seed + number)
        batches = [(torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(y))
                   for X, y in zip(data, labels)]
        net, optimizer = self.net, self.optimizer
        start = clock()
        total_loss, hits = 0.0, 0
        for X, y in batches:
            optimizer.zero_grad()
            scores = net(X)
            loss = F.cross_entropy(scores, y)
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
            hits += (scores.argmax(dim=1) == y).sum().item()
        seconds = clock() - start
        self.batches = len(batches)
        return seconds, total_loss / len(batches), hits / len(self.train_label)

    def finish(self):
        np, torch = self.np, self.torch
        with torch.no_grad():
            scores = self.net(torch.from_numpy(np.ascontiguousarray(self.val_data)))
            val_acc = float((scores.argmax(dim=1) == torch.from_numpy(self.val_label))
                            .float().mean())
        return {'val_acc': val_acc, 'batches': self.batches, 'torch': torch.__version__,
                'threads': torch.get_num_threads(), 'examples': int(len(self.train_label))}


TRAINERS = {'numpy': NumpyTrainer, 'torch': TorchTrainer}


def serve_training(params):
    """Train on request: after a READY line, each 'epoch' line on stdin runs one
    timed epoch and answers with a result line (its wall seconds, loss, accuracy and
    the process's CPU seconds during it); 'done' answers with the summary
    (validation accuracy, ...) and ends. The parent interleaves several of these
    servers epoch by epoch, so that a burst of load elsewhere hits all of them."""
    trainer = TRAINERS[params['impl']](params)
    print(RESULT_MARK + json.dumps({'ready': True}), flush=True)
    number = 0
    for line in sys.stdin:
        if line.strip() == 'epoch':
            number += 1
            cpu = time.process_time()
            seconds, loss, acc = trainer.epoch(number)
            cpu = time.process_time() - cpu  # every thread's, the untimed shuffle included
            print(RESULT_MARK + json.dumps({'seconds': seconds, 'loss': loss, 'acc': acc,
                                            'cpu': cpu}), flush=True)
        else:
            break
    print(RESULT_MARK + json.dumps(trainer.finish()), flush=True)


# -- matrix multiplication ----------------------------------------------------

def task_gemm_peak(params):
    """GFLOP/s of np.matmul on two large square matrices (best and every run)."""
    import numpy as np

    n, dtype = params['n'], np.dtype(params['dtype'])
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    c = np.empty((n, n), dtype=dtype)
    np.matmul(a, b, out=c)  # warm-up: threads started, pages touched
    runs = []
    for _ in range(params['repeats']):
        start = clock()
        np.matmul(a, b, out=c)
        runs.append(2.0 * n ** 3 / (clock() - start) / 1e9)
    return {'gflops': runs, 'blas': _blas_threads()}


def task_matmul_floor(params):
    """One epoch's matrix products alone, at the model's real shapes, in float32.

    The same np.matmul calls as the model's forward and backward passes, into
    preallocated outputs: what an epoch would cost if everything but the
    products were free.
    """
    _solutions(params)
    import numpy as np
    import utils

    train_data, train_label, _, _ = utils.load_mnist_trainval()
    hidden = params.get('hidden_size')
    d, c, n = train_data.shape[1], 10, params['batch_size']
    rng = np.random.default_rng(0)
    f32 = np.float32
    if hidden:
        W1 = (0.001 * rng.standard_normal((d, hidden))).astype(f32)
        W2 = (0.001 * rng.standard_normal((hidden, c))).astype(f32)
        Z1, Z2 = np.empty((n, hidden), f32), np.empty((n, c), f32)
        gW1, gW2 = np.empty((d, hidden), f32), np.empty((hidden, c), f32)
    else:
        W1 = (0.001 * rng.standard_normal((d, c))).astype(f32)
        Z1, gW1 = np.empty((n, c), f32), np.empty((d, c), f32)
    times = []
    for epoch in range(params['warmup'] + params['epochs']):
        batches, _ = utils.generate_batched_data(train_data, train_label, n, shuffle=True,
                                                 seed=epoch)
        batches = [X for X in batches if len(X) == n]
        start = clock()
        for X in batches:
            if hidden:
                np.matmul(X, W1, out=Z1)      # forward, first layer
                np.matmul(Z1, W2, out=Z2)     # forward, second layer
                np.matmul(Z1.T, Z2, out=gW2)  # dW2 = A1^T dZ2
                np.matmul(Z2, W2.T, out=Z1)   # dA1 = dZ2 W2^T
                np.matmul(X.T, Z1, out=gW1)   # dW1 = X^T dZ1
            else:
                np.matmul(X, W1, out=Z1)      # forward
                np.matmul(X.T, Z1, out=gW1)   # dW1 = X^T dZ
        times.append(clock() - start)
    return {'epoch_seconds': times[params['warmup']:], 'batches': len(batches)}


def task_memory_data(params):
    """The data's own footprint: numpy imported, MNIST loaded and every page touched."""
    _solutions(params)
    import utils

    arrays = utils.load_mnist('train') + utils.load_mnist('test')
    return {'checksum': _touch(arrays)}


TASKS = {name[len('task_'):]: fn for name, fn in globals().items() if name.startswith('task_')}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == 'serve_training':
        serve_training(json.loads(argv[1]))
        return 0
    if len(argv) != 2 or argv[0] not in TASKS:
        print(f"usage: python -m bench.worker {{{','.join(TASKS)}}} JSON", file=sys.stderr)
        return 2
    result = TASKS[argv[0]](json.loads(argv[1]))
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
