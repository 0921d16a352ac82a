"""Attacks on the accuracy tests, rebuilt by the kit's red team: learning nothing, scoring anyway.

The third red team's attack, rebuilt our own way: weights trained offline in
the coordinates of MNIST's principal components (small enough to ship in a
submission), and code in the submission that finds the same coordinates on
whatever training split the sandbox holds, by computing its principal
components and fixing each one's sign by its skewness. Under a rotation of
the pixels that works (the covariance's eigenvectors rotate with the data);
the judge's split must defeat it.

    offline(images, labels, components)     -> Shipped (what a submission carries)
    hijack(images, shipped)                 -> {name: weights} for the sandbox's data
    submission_code(model, shipped)         -> code for the top of forward()

The judge's own scoring (autograder.catalogue.reference.score) measures what
an attack would earn on a split the test builds itself.
"""
import base64
import inspect
import zlib
from dataclasses import dataclass

import numpy as np

COMPONENTS = 80


@dataclass
class Shipped:
    """What a submission carries: per model its weights in component coordinates, and
    the sign of each component's skewness on the public data."""
    signs: np.ndarray        # (k,) +1 / -1
    weights: dict            # {'SoftmaxRegression': {'W1': (k, 10)}, 'TwoLayerNet': {...}}


def _components(images, k):
    """The top k eigenvectors (784, k) of the uncentred second moment, and skewness signs."""
    X = np.asarray(images, dtype=np.float64)
    moment = X.T @ X / len(X)
    _, vectors = np.linalg.eigh(moment)
    top = vectors[:, ::-1][:, :k]
    skew = np.mean((X @ top) ** 3, axis=0)
    return top, np.sign(skew)


def offline(images, labels, k=COMPONENTS, epochs=4, seed=0):
    """Weights trained on public MNIST in principal-component coordinates."""
    top, signs = _components(images, k)
    Z = np.asarray(images, dtype=np.float64) @ top
    onehot = np.eye(10)[labels]
    linear = np.linalg.lstsq(Z, onehot, rcond=None)[0]                   # (k, 10)
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(0, 0.1, (k, 128)), np.zeros(128)
    W2, b2 = rng.normal(0, 0.1, (128, 10)), np.zeros(10)
    for _ in range(epochs):                                                # a plain MLP
        order = rng.permutation(len(Z))
        for start in range(0, len(Z), 64):
            i = order[start:start + 64]
            h = 1 / (1 + np.exp(-(Z[i] @ W1 + b1)))
            s = h @ W2 + b2
            p = np.exp(s - s.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            d = (p - onehot[i]) / len(p)
            dh = d @ W2.T * h * (1 - h)
            W2 -= 0.5 * h.T @ d
            b2 -= 0.5 * d.sum(0)
            W1 -= 0.5 * Z[i].T @ dh
            b1 -= 0.5 * dh.sum(0)
    return Shipped(signs, {'SoftmaxRegression': {'W1': linear},
                           'TwoLayerNet': {'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}})


def hijack(images, signs, pc_weights):
    """The submission's side: weights for a model of the sandbox's own coordinates.

    Args:
        images: (N, 784) the training split the sandbox holds.
        signs: (k,) the public components' skewness signs; pc_weights: {name:
            array} trained in component coordinates (first layer (k, H)).
    """
    import numpy as np
    X = np.asarray(images, dtype=np.float64)
    _, vectors = np.linalg.eigh(X.T @ X / len(X))
    top = vectors[:, ::-1][:, :len(signs)]
    top = top * (np.sign(np.mean((X @ top) ** 3, axis=0)) * signs)
    out = dict(pc_weights)
    out['W1'] = top @ pc_weights['W1']
    return out


def _pack(array):
    return base64.b85encode(zlib.compress(np.asarray(array, np.float32).tobytes(), 9)).decode()


def submission_code(model, shipped):
    """Code for the top of `model`'s forward(): hijack once, then keep the weights fixed."""
    weights = shipped.weights[model]
    shapes = {name: value.shape for name, value in weights.items()}
    packed = {name: _pack(value) for name, value in weights.items()}
    return (
        "if not hasattr(type(self), 'hijacked'):\n"
        "    import base64, os, zlib\n"
        + ''.join('    ' + line + '\n' for line in inspect.getsource(hijack).splitlines())
        + "    unpack = lambda blob, shape: np.frombuffer(zlib.decompress(base64.b85decode(blob)), "
        "np.float32).reshape(shape)\n"
        f"    shapes = {shapes!r}\n"
        f"    packed = {packed!r}\n"
        "    images = np.load(os.path.join(os.environ['PROBE_TRAIN_DIR'], 'images.npy'), "
        "mmap_mode='r')\n"
        f"    signs = unpack({_pack(shipped.signs)!r}, ({len(shipped.signs)},))\n"
        "    type(self).hijacked = hijack(images, signs, {n: unpack(packed[n], shapes[n]) "
        "for n in packed})\n"
        "for name, value in type(self).hijacked.items():\n"
        "    self.weights[name] = np.array(value, dtype=np.float32)\n"
        "    self.gradients[name] = np.zeros_like(self.weights[name])\n"
        "return 0.0, 0.0\n")
