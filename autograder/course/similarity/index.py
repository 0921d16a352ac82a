"""Every submission against every other, through an index of k-gram hashes.

Own code. A k-gram (k consecutive normalised tokens) of a submission is its
own when none of its tokens is scaffold (scaffold.py) or lies in a *common*
passage: a k-gram found in at least common_count(n) of the n submissions
read (this class and the archives), or a run of scaffold_k tokens written
identically, names and literals too, in verbatim_count(n) of them. That is
MOSS's -m: a passage many students have is not evidence that two of them
copied, be it a skeleton's given code, an idiom
(`np.exp(x - x.max(axis=1, keepdims=True))`) or a line every correct solution
needs. Tokens inside a common passage are masked, so the k-grams that
straddle it and a student's own code do not count either.

Weights. An own k-gram held by d submissions weighs 1 / d: code only two
students have counts twice what three have. Agreeing on a rarer choice is
better evidence.

Shares. A's share of B is the weight of A's own k-grams whose hash B also
holds among its own, over the weight of all of A's own k-grams (with
multiplicity: a passage A repeats counts each time). A file's share is the
same over the file's own k-grams. compare.py makes the pair's similarity
from them.

Cost. Own hashes held by one submission only cannot make a pair; the rest are
grouped by hash, and each group adds its weight to every (file, submission)
cell it touches, in numpy, in bounded chunks. The cells form a dense
(files x submissions) table of 32-bit floats: 1,000 submissions of 10 files
each is 40 MB.
"""
import math
from dataclasses import dataclass

import numpy as np

from . import fingerprints


@dataclass(frozen=True)
class Settings:
    """The comparison's parameters (docs/similarity.md says how each was chosen).

    k: tokens per k-gram.
    scaffold_k: tokens per run of tokens as written, for the scaffold
        (scaffold.py) and for the class's verbatim passages.
    common_fraction, common_min: a k-gram is common when at least
        max(common_min, ceil(common_fraction * n)) of the n submissions hold it.
    verbatim_fraction: a run of scaffold_k tokens written identically (names
        and literals too) is common from max(common_min, ceil(verbatim_fraction
        * n)) submissions: handed-out code a scaffold folder does not hold.
    file_min: own k-grams a file needs for its own share to count.
    match_min: own k-grams two submissions must share to be flagged.
    weighting: 'inverse_df' (each own k-gram weighs 1 / the number of
        submissions holding it) or 'none' (each weighs 1).
    literals: keep the values of numbers and strings (else only their kind).
    """
    k: int = 16
    scaffold_k: int = 10
    common_fraction: float = 0.5
    common_min: int = 4
    verbatim_fraction: float = 0.1
    file_min: int = 40
    match_min: int = 15
    weighting: str = 'inverse_df'
    literals: bool = True

    def common_count(self, n):
        return max(self.common_min, math.ceil(self.common_fraction * n))

    def verbatim_count(self, n):
        return max(self.common_min, math.ceil(self.verbatim_fraction * n))


@dataclass
class Scores:
    """Pairwise counts and shares over n documents (numpy arrays).

    counts: (n, n) float64, [a, b] = the weight of a's own k-grams whose hash b holds.
    own: (n,) float64, the weight of each document's own k-grams.
    file_best: (n, n) float64, [a, b] = the largest share of one of a's
        files with at least file_min own k-grams; file_arg: which file
        (index into a's files; -1 for none).
    """
    counts: np.ndarray
    own: np.ndarray
    file_best: np.ndarray
    file_arg: np.ndarray
    matched: np.ndarray  # (n, n) int64, [a, b] = own k-grams of a that b holds, unweighted
    own_kgrams: np.ndarray  # (n,) int64, own k-grams per document, unweighted

    def share(self):
        with np.errstate(divide='ignore', invalid='ignore'):
            return np.where(self.own[:, None] > 0, self.counts / self.own[:, None], 0.0)


def _common(sets, threshold):
    """Sorted hashes found in at least `threshold` of the sorted unique arrays `sets`."""
    if not sets:
        return np.zeros(0, dtype=np.uint64)
    values, counts = np.unique(np.concatenate(sets), return_counts=True)
    return values[counts >= threshold]


def mark_own(documents, settings):
    """Set every file's `own` k-grams; return (common hashes, the count that makes one common).

    Common: a normalised k-gram, or a raw_k-gram of tokens as written (which
    catches the short stretches of a skeleton between two pieces of a
    student's code, as scaffold.py does for a known one), held by at least
    common_count(n) documents.
    """
    k, raw_k = settings.k, settings.scaffold_k
    clean = [d.distinct_hashes() for d in documents]
    threshold = settings.common_count(len(documents))
    if clean:
        df_values, df_counts = np.unique(np.concatenate([norm for norm, _ in clean]),
                                         return_counts=True)
    else:
        df_values, df_counts = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    common = df_values[df_counts >= threshold]
    common_raw = _common([raw for _, raw in clean], settings.verbatim_count(len(documents)))
    for document in documents:
        for f in document.files:
            n = len(f)
            f.masked = f.masked | fingerprints.covered_tokens(
                fingerprints.member(f.hashes, common), n, k) | fingerprints.covered_tokens(
                fingerprints.member(f.raw_hashes, common_raw), n, raw_k)
            f.own = fingerprints.free_windows(f.masked, k)
            f.raw_hashes = None  # read for the last time: memory for a class of 1,000
            own = f.own_hashes()
            if settings.weighting == 'inverse_df' and len(own):
                f.weights = 1.0 / df_counts[np.searchsorted(df_values, own)]
            else:
                f.weights = np.ones(len(own))
    return common, threshold


def _entries(documents):
    """(hash, file, count) of every file's own k-grams and (hash, doc) of every document's.

    Only hashes held by two documents or more are kept: the others match nothing.
    """
    src_hash, src_file, src_count, src_raw, dst_hash, dst_doc = [], [], [], [], [], []
    index = 0
    for d, document in enumerate(documents):
        per_doc = []
        for f in document.files:
            values, inverse = np.unique(f.own_hashes(), return_inverse=True)
            src_hash.append(values)
            src_file.append(np.full(len(values), index, dtype=np.int64))
            src_count.append(np.bincount(inverse.ravel(), weights=f.weights,
                                         minlength=len(values)))
            src_raw.append(np.bincount(inverse.ravel(), minlength=len(values)))
            per_doc.append(values)
            index += 1
        values = np.unique(np.concatenate(per_doc)) if per_doc else np.zeros(0, np.uint64)
        dst_hash.append(values)
        dst_doc.append(np.full(len(values), d, dtype=np.int64))
    join = (lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts
            else np.zeros(0, dtype))
    src = (join(src_hash, np.uint64), join(src_file, np.int64), join(src_count, np.float64),
           join(src_raw, np.int64))
    dst = (join(dst_hash, np.uint64), join(dst_doc, np.int64))
    values, counts = np.unique(dst[0], return_counts=True)
    shared = values[counts >= 2]
    keep_src = fingerprints.member(src[0], shared)
    keep_dst = fingerprints.member(dst[0], shared)
    src = tuple(a[keep_src] for a in src)
    dst = tuple(a[keep_dst] for a in dst)
    order = np.argsort(dst[0], kind='stable')
    return src, tuple(a[order] for a in dst)


def score(documents, settings, chunk=1_000_000):
    """Scores of every pair of documents (call mark_own first).

    Pairs of two archive entries are never counted.
    """
    n = len(documents)
    file_doc = np.array([d for d, doc in enumerate(documents) for _ in doc.files],
                        dtype=np.int64)
    file_own = np.array([float(f.weights.sum()) for doc in documents for f in doc.files],
                        dtype=np.float64)
    file_kgrams = np.array([int(f.own.sum()) for doc in documents for f in doc.files],
                           dtype=np.int64)
    archive = np.array([doc.archive for doc in documents], dtype=bool)
    table = np.zeros((len(file_doc), n), dtype=np.float32)
    matched = np.zeros((n, n), dtype=np.int64)
    (src_hash, src_file, src_count, src_raw), (dst_hash, dst_doc) = _entries(documents)
    low = np.searchsorted(dst_hash, src_hash, 'left')
    size = np.searchsorted(dst_hash, src_hash, 'right') - low
    start = 0
    while start < len(src_hash):
        # as many source entries as keep the expansion near `chunk` cells
        stop = start + 1 + int(np.searchsorted(np.cumsum(size[start:]), chunk))
        stop = min(stop, len(src_hash))
        sizes = size[start:stop]
        rows = np.repeat(np.arange(start, stop), sizes)
        offsets = np.arange(len(rows)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        targets = dst_doc[low[rows] + offsets]
        files = src_file[rows]
        sources = file_doc[files]
        keep = (targets != sources) & ~(archive[sources] & archive[targets])
        np.add.at(table, (files[keep], targets[keep]), src_count[rows[keep]])
        np.add.at(matched, (sources[keep], targets[keep]), src_raw[rows[keep]])
        start = stop
    if not n:
        empty = np.zeros((0, 0))
        return Scores(empty, np.zeros(0), empty, empty.astype(np.int64),
                      empty.astype(np.int64), np.zeros(0, np.int64))
    # every document has at least one file, and its files are contiguous
    boundaries = np.flatnonzero(np.r_[True, file_doc[1:] != file_doc[:-1]])
    counts = np.add.reduceat(table, boundaries, axis=0, dtype=np.float64)
    own = np.add.reduceat(file_own, boundaries)
    file_best = np.zeros((n, n))
    file_arg = np.full((n, n), -1, dtype=np.int64)
    ends = np.r_[boundaries[1:], len(file_doc)]
    for d in range(n):  # one document's files at a time: no (files x n) temporaries
        rows = np.arange(boundaries[d], ends[d])
        rows = rows[file_kgrams[rows] >= settings.file_min]
        if not len(rows):
            continue
        block = table[rows] / file_own[rows, None]
        best = block.argmax(axis=0)
        file_best[d] = block[best, np.arange(n)]
        file_arg[d] = np.where(file_best[d] > 0, rows[best] - boundaries[d], -1)
    return Scores(counts, own, file_best, file_arg, matched,
                  np.add.reduceat(file_kgrams, boundaries))
