"""The baseline loader: MNIST as CSV text, read line by line into Python lists.

This is the loader of many course handouts: one line per image, the label
then 784 pixel values (0-255) separated by commas, no header (the layout of
the widely shared mnist_train.csv / mnist_test.csv), parsed into a list of
labels and a list of lists of floats scaled to [0, 1].
"""
import os
from pathlib import Path


def write_csv(images, labels, path, rows=None):
    """Write `rows` images (all if None) as label,p0,...,p783 lines.

    Args:
        images: (N, 28, 28) or (N, 784) uint8 array.
        labels: (N,) integer array.
        path: the CSV file to write (replaced atomically).
    """
    n = len(labels) if rows is None else min(rows, len(labels))
    pixels = images.reshape(len(images), -1)[:n].tolist()
    names = [str(v) for v in range(256)]
    tmp = Path(f'{path}.tmp{os.getpid()}')
    with open(tmp, 'w') as f:
        for label, row in zip(labels[:n].tolist(), pixels):
            f.write(f"{label},{','.join([names[v] for v in row])}\n")
    os.replace(tmp, path)
    return n


def load_csv_lists(path):
    """The classic loader: (images, labels), a list of 784-float lists and a list of ints."""
    images, labels = [], []
    with open(path) as f:
        for line in f:
            values = line.strip().split(',')
            labels.append(int(values[0]))
            images.append([float(v) / 255.0 for v in values[1:]])
    return images, labels
