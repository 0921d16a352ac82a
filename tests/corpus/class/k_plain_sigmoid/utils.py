"""Data loading, batching, the training and evaluation loops, and learning curves.

MNIST comes from the four official gzip IDX files that `get_data.sh` fetches.
They are looked for in $MNIST_DIR if set, else in `data/mnist` beside this
package folder. The first load decodes them (about a second) and keeps a decoded
copy in `<data dir>/cache/`; later loads read that copy.

Training and evaluation run with one BLAS thread per process unless told
otherwise (the `blas_threads` argument, or the environment variable
HW1_BLAS_THREADS): see limit_blas_threads.
"""
import contextlib
import gzip
import json
import os
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np

# The four files `get_data.sh` fetches, by split.
MNIST_FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}
# IDX magic numbers: 0x0000 then the element type (0x08 = unsigned byte), then
# the number of dimensions.
_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}
_CACHE_FORMAT = 1
# What `./get_data.sh` does about a damaged file, for the error messages.
_REFETCH = ("run ./get_data.sh from the kit's top folder: it checks every file's "
            "SHA-256 and fetches a fresh copy of any that fails")


class DataError(ValueError):
    """An MNIST file that cannot be decoded (corrupt, truncated, not MNIST)."""


class DataNotFoundError(FileNotFoundError):
    """The MNIST folder or one of its files is missing."""


def mnist_dir():
    """The folder holding the MNIST .gz files: $MNIST_DIR, else ../data/mnist."""
    env = os.environ.get('MNIST_DIR')
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / 'data' / 'mnist'


def read_idx(path, ndim):
    """Decode one gzip-compressed IDX file of unsigned bytes.

    Args:
        path: path of a .gz IDX file.
        ndim: 3 for images, 1 for labels.

    Returns:
        array: uint8, shape (N, rows, cols) for images or (N,) for labels.

    Raises:
        DataError (a ValueError): the file is not valid gzip (a flipped byte, a
            truncated download), not an IDX file of `ndim` unsigned-byte
            dimensions, or its payload is shorter or longer than its header says.
    """
    try:
        with gzip.open(path, 'rb') as f:
            raw = f.read()
    except (zlib.error, gzip.BadGzipFile, EOFError, OSError) as err:
        # zlib.error: a damaged deflate stream; BadGzipFile: a bad header or
        # CRC; EOFError: a truncated file; OSError: unreadable.
        kind = type(err).__name__ if type(err).__module__ == 'builtins' else \
            f"{type(err).__module__}.{type(err).__name__}"
        raise DataError(f"{path}: corrupt MNIST file, not a readable gzip file "
                        f"({kind}: {err}); {_REFETCH}") from None
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DataError(f"{path}: {len(raw)} bytes, too short for an IDX header; {_REFETCH}")
    magic = int.from_bytes(raw[:4], 'big')
    if magic != _IDX_MAGIC[ndim]:
        raise DataError(f"{path}: magic number {magic:#010x}, expected "
                        f"{_IDX_MAGIC[ndim]:#010x} ({ndim}-d unsigned bytes); {_REFETCH}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{path}: {len(raw)} bytes, header {shape} implies {expected}; "
                        f"{_REFETCH}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _decode(paths, split):
    """Images (N, 784) float32 in [0, 1] and labels (N,) int64 from the .gz files."""
    images = read_idx(paths[0], 3)
    labels = read_idx(paths[1], 1)
    if len(images) != len(labels):
        raise DataError(f"{paths[0].parent}: {len(images)} {split} images "
                         f"but {len(labels)} labels")
    pixels = images.reshape(len(images), -1)
    data = np.empty(pixels.shape, dtype=np.float32)
    np.multiply(pixels, np.float32(1 / 255), out=data)
    return data, labels.astype(np.int64)


def _save_atomically(path, array):
    """np.save under a temporary name, then rename: never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_mnist(split):
    """All images and labels of one MNIST split, in the files' order.

    Decoded arrays are cached in <data dir>/cache/ and memory-mapped
    copy-on-write on later loads: the call returns at once, pages are read on
    first use, and writing to the arrays never changes the cache. The cache is
    used only while the .gz files' sizes and modification times match the ones
    recorded with it; a data folder that cannot be written is read uncached.

    Args:
        split: 'train' (60,000 examples) or 'test' (10,000).

    Returns:
        images: (N, 784) float32, pixels scaled to [0, 1].
        labels: (N,) int64, digits 0-9.

    Raises:
        DataNotFoundError (a FileNotFoundError): the data folder or a file is
            missing (run get_data.sh).
        DataError (a ValueError): a file is corrupt, or images and labels
            disagree in number.
    """
    folder = mnist_dir()
    paths = [folder / name for name in MNIST_FILES[split]]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataNotFoundError(
            f"MNIST {split} data not found in {folder} (missing {', '.join(missing)}). "
            f"Run ./get_data.sh from the kit's top folder, or set MNIST_DIR to the "
            f"folder that holds the .gz files.")
    cache = folder / 'cache'
    cached = [cache / f'{split}-images.npy', cache / f'{split}-labels.npy']
    stamp_path = cache / f'{split}.json'
    stamp = {'format': _CACHE_FORMAT,
             'files': {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in paths}}
    try:
        if json.loads(stamp_path.read_text()) == stamp:
            return tuple(np.asarray(np.load(c, mmap_mode='c', allow_pickle=False))
                         for c in cached)
    except (OSError, ValueError):
        pass  # no cache yet, or a stale or damaged one: decode again
    arrays = _decode(paths, split)
    try:
        cache.mkdir(exist_ok=True)
        for path, array in zip(cached, arrays):
            _save_atomically(path, array)
        stamp_path.write_text(json.dumps(stamp))
    except OSError:
        pass  # read-only data folder: work without a cache
    return arrays


def load_mnist_trainval():
    """The MNIST training set, split into training and validation parts.

    Returns:
        train_data: (48000, 784) float32 in [0, 1], the first 48,000 training images.
        train_label: (48000,) int64.
        val_data: (12000, 784) float32, the last 12,000 training images.
        val_label: (12000,) int64.
        No shuffling: example i of the files stays in position.
    """
    images, labels = load_mnist('train')
    train_data = None
    train_label = None
    val_data = None
    val_label = None
    #----------------------------------------------------------------------------
    # TODO: Split the 60,000 training examples, in order: the first 48,000 (80%)
    #   for training, the last 12,000 for validation. Images and labels must stay
    #   paired.
    #----------------------------------------------------------------------------
    train_data = images[:48000]
    val_data = images[48000:]
    train_label = labels[:48000]
    val_label = labels[48000:]
    #----------------------------- END OF YOUR CODE -----------------------------
    return train_data, train_label, val_data, val_label


def load_mnist_test():
    """The 10,000 MNIST test images and labels.

    Returns:
        test_data: (10000, 784) float32 in [0, 1].
        test_label: (10000,) int64.
    """
    return load_mnist('test')


def generate_batched_data(data, label, batch_size=32, shuffle=False, seed=None):
    """Cut a dataset into mini-batches.

    Args:
        data: (N, D) array or list of N examples.
        label: (N,) array or list of N labels.
        batch_size: int >= 1.
        shuffle: if True, permute the examples first (data and labels together).
        seed: int or None. The same seed gives the same order every time;
            seed=0 is a seed like any other. None draws a fresh order.

    Returns:
        batched_data: list of ceil(N / batch_size) arrays, each (batch_size, D)
            except the last, which holds the remaining examples.
        batched_label: list of the matching (batch_size,) label arrays.
    """
    batched_data = None
    batched_label = None
    #----------------------------------------------------------------------------
    # TODO: Convert data and labels to arrays. If shuffle, reorder both with the
    #   same random permutation from a generator seeded with `seed` (for example
    #   np.random.default_rng(seed)); careful: 0 is a valid seed. Then slice
    #   consecutive batches of batch_size, keeping the last, smaller batch.
    #----------------------------------------------------------------------------
    data = np.array(data)
    label = np.array(label)
    if shuffle:
        rng = np.random.RandomState(seed)
        idx = rng.permutation(len(data))
        data = data[idx]
        label = label[idx]
    batched_data = []
    batched_label = []
    for i in range(0, len(data), batch_size):
        batched_data.append(data[i:i + batch_size])
        batched_label.append(label[i:i + batch_size])
    #----------------------------- END OF YOUR CODE -----------------------------
    return batched_data, batched_label


def _progress(batches, desc, enabled):
    """Wrap `batches` in a progress bar when asked for and someone is watching."""
    interactive = sys.stderr.isatty() or 'ipykernel' in sys.modules
    if not (enabled and interactive):
        return batches
    from tqdm.auto import tqdm
    return tqdm(batches, desc=desc, leave=False)


# BLAS threads of training and evaluation. Products of a 64 x 784 batch by a
# 784 x 128 matrix gain little from a second thread on an idle machine, and on
# a busy one competing threads are ruinous: on 2 cores under load, an epoch
# took 28-50 s with 2 OpenBLAS threads against 1.7-2.4 s with 1.
BLAS_THREADS_ENV = 'HW1_BLAS_THREADS'
DEFAULT_BLAS_THREADS = 1
_warned_no_threadpoolctl = False


def blas_threads(threads=None):
    """The number of BLAS threads training uses.

    Args:
        threads: an int >= 1; 0 for no limit (the BLAS library's own default,
            usually one thread per core); None for $HW1_BLAS_THREADS, or 1 when
            that is unset or empty.

    Raises:
        ValueError: `threads` or $HW1_BLAS_THREADS is not an integer >= 0.
    """
    where = 'blas_threads'
    if threads is None:
        value = os.environ.get(BLAS_THREADS_ENV, '').strip()
        if not value:
            return DEFAULT_BLAS_THREADS
        where = BLAS_THREADS_ENV
        try:
            threads = int(value)
        except ValueError:
            threads = value
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
        raise ValueError(f"{where}={threads!r}: expected a number of BLAS threads "
                         f"(1, 2, ...), or 0 for the BLAS library's default")
    return int(threads)


def limit_blas_threads(threads=None):
    """A context manager inside which BLAS uses blas_threads(threads) threads.

    It works through threadpoolctl, imported here and only here; without it a
    warning is shown once and nothing is limited.
    """
    global _warned_no_threadpoolctl
    count = blas_threads(threads)
    if count == 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        if not _warned_no_threadpoolctl:
            _warned_no_threadpoolctl = True
            warnings.warn("threadpoolctl is not installed, so training runs with the BLAS "
                          "library's default threads, which is much slower on a busy "
                          "machine: pip install threadpoolctl", RuntimeWarning, stacklevel=3)
        return contextlib.nullcontext()
    return threadpool_limits(limits=count, user_api='blas')


def use_data_precision(model, X):
    """Convert the model's weights to the floating dtype of the data X, in place.

    Models start in float64, which gradient checks need. MNIST is float32, and
    float32 weights make every product and every SGD step of training run in
    float32: half the memory traffic and about twice the speed of float64, and
    no conversion of the weights at each batch. Weights already in that dtype
    are left as they are.
    """
    dtype = np.result_type(np.asarray(X).dtype, np.float32)
    for name, weight in model.weights.items():
        model.weights[name] = np.asarray(weight).astype(dtype, copy=False)


def train(epoch, batched_train_data, batched_train_label, model, optimizer, debug=True,
          blas_threads=None):
    """One epoch of training: a forward pass and an optimizer step per batch.

    Args:
        epoch: int, the epoch's number (shown on the progress bar).
        batched_train_data, batched_train_label: lists of batches, as returned
            by generate_batched_data.
        model: a model with forward(X, y, mode='train').
        optimizer: an optimizer with update(model).
        debug: show a progress bar when running interactively.
        blas_threads: BLAS threads to use; None for $HW1_BLAS_THREADS, else 1
            (see limit_blas_threads).

    The model's weights are first converted to the data's precision
    (use_data_precision): float32 for MNIST.

    Returns:
        epoch_loss: float, the mean of the batches' losses.
        epoch_acc: float, the fraction of this epoch's examples classified
            correctly (each batch weighted by its size).
    """
    total_loss = 0.0
    hits = 0.0
    seen = 0
    if len(batched_train_data):
        use_data_precision(model, batched_train_data[0])
    batches = zip(batched_train_data, batched_train_label)
    with limit_blas_threads(blas_threads):
        for X, y in _progress(batches, f"epoch {epoch}", debug):
            loss, accuracy = model.forward(X, y, mode='train')
            optimizer.update(model)
            total_loss += loss
            hits += accuracy * len(y)
            seen += len(y)
    return total_loss / max(len(batched_train_data), 1), hits / max(seen, 1)


def evaluate(batched_test_data, batched_test_label, model, debug=True, blas_threads=None):
    """Loss and accuracy of `model` on batched data, without updating it.

    debug and blas_threads are as in train().

    Returns:
        loss: float, the mean of the batches' losses.
        acc: float, the fraction of all examples classified correctly.
    """
    total_loss = 0.0
    hits = 0.0
    seen = 0
    batches = zip(batched_test_data, batched_test_label)
    with limit_blas_threads(blas_threads):
        for X, y in _progress(batches, "evaluate", debug):
            loss, accuracy = model.forward(X, y, mode='valid')
            total_loss += loss
            hits += accuracy * len(y)
            seen += len(y)
    return total_loss / max(len(batched_test_data), 1), hits / max(seen, 1)


def plot_curves(train_loss_history, train_acc_history, valid_loss_history,
                valid_acc_history, save_path='learning_curves.png'):
    """Plot learning curves: loss and accuracy per epoch, training vs validation.

    Args:
        train_loss_history, train_acc_history, valid_loss_history,
            valid_acc_history: sequences of floats, one entry per epoch.
        save_path: where to write the figure as PNG; None to skip saving.

    Returns:
        fig: a matplotlib Figure with two axes: loss (left) and accuracy (right),
            each with a training and a validation curve, axis labels and a legend.
    """
    fig = None
    #----------------------------------------------------------------------------
    # TODO: Make one figure with two side-by-side axes (plt.subplots(1, 2)). Left:
    #   training and validation loss against the epoch (1, 2, ...); right: the
    #   same for accuracy. Label both axes of each plot, add legends and titles,
    #   save the figure to save_path (unless it is None) and return it.
    #----------------------------------------------------------------------------
    import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    axs[0].plot(train_loss_history, label='train loss')
    axs[0].plot(valid_loss_history, label='val loss')
    axs[0].set_xlabel('Epoch')
    axs[0].set_ylabel('Loss')
    axs[0].set_title('Loss')
    axs[0].legend()
    axs[1].plot(train_acc_history, label='train acc')
    axs[1].plot(valid_acc_history, label='val acc')
    axs[1].set_xlabel('Epoch')
    axs[1].set_ylabel('Accuracy')
    axs[1].set_title('Accuracy')
    axs[1].legend()
    plt.tight_layout()
    if save_path:
        plt.savefig(save_path)
    #----------------------------- END OF YOUR CODE -----------------------------
    return fig
