"""k-grams of token ids: their hashes, and which tokens they cover.

Every k-gram is kept (no winnowing): a class of 1,000 submissions of a few
thousand tokens each is a few million 64-bit hashes, and keeping them all
makes a share exact (the fraction of a submission's k-grams that the other
holds) instead of an estimate from a sample.
"""
import numpy as np

_BASE = np.uint64(0x100000001B3)  # an odd multiplier: the hash is a polynomial mod 2**64


def kgram_hashes(ids, k):
    """(n - k + 1,) uint64: the hash of each run of k consecutive token ids.

    Args:
        ids: (n,) uint64 token ids.
        k: the k-gram length, >= 1.
    """
    ids = np.asarray(ids, dtype=np.uint64)
    count = len(ids) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over='ignore'):
        for j in range(k):  # wraps mod 2**64, as intended
            hashes = hashes * _BASE + ids[j:j + count]
    return hashes


def covered_tokens(starts, n, k):
    """(n,) bool: the tokens inside a k-gram that starts at one of `starts`.

    Args:
        starts: (m,) bool over the n - k + 1 k-gram positions, or int positions.
        n: the number of tokens.
    """
    starts = np.asarray(starts)
    if starts.dtype == bool:
        starts = np.flatnonzero(starts)
    depth = np.zeros(n + 1, dtype=np.int64)
    np.add.at(depth, starts, 1)
    np.add.at(depth, starts + k, -1)
    return np.cumsum(depth[:n]) > 0


def free_windows(masked, k):
    """(n - k + 1,) bool: the k-grams that hold no masked token.

    Args:
        masked: (n,) bool over the tokens.
    """
    n = len(masked)
    if n < k:
        return np.zeros(0, dtype=bool)
    total = np.concatenate([[0], np.cumsum(masked, dtype=np.int64)])
    return total[k:] - total[:-k] == 0


def member(values, sorted_set):
    """(len(values),) bool: which values are in `sorted_set` (a sorted unique array)."""
    values = np.asarray(values, dtype=np.uint64)
    if not len(sorted_set) or not len(values):
        return np.zeros(len(values), dtype=bool)
    where = np.searchsorted(sorted_set, values)
    where[where == len(sorted_set)] = 0
    return sorted_set[where] == values
