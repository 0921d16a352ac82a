"""A submission's code as the comparison sees it: files of tokens and k-gram hashes."""
from dataclasses import dataclass, field

import numpy as np

from . import fingerprints
from .tokens import normalise


@dataclass
class CodeFile:
    """One .py file of a submission (or code decoded from one, `rel#decoded-N`).

    Attributes:
        rel: the file's path in the submission.
        text: its decoded source (what the report shows).
        starts, ends: (n,) int32, each normalised token's character offsets
            (decoded text is capped at 4 Mi characters).
        hashes: (n - k + 1,) uint64 k-gram hashes of the normalised tokens.
        raw_hashes: (n - raw_k + 1,) uint64 hashes of raw_k-grams of the
            tokens as written (scaffold.py); None once the index has read them.
        masked: (n,) bool, tokens that are not the student's own: the
            scaffold's, then (set by the index) the class's common passages.
        own: (n - k + 1,) bool, set by the index: k-grams of own tokens only.
    """
    rel: str
    text: str
    starts: np.ndarray
    ends: np.ndarray
    hashes: np.ndarray
    raw_hashes: np.ndarray
    masked: np.ndarray
    own: np.ndarray = None
    weights: np.ndarray = None  # per own k-gram, set by the index

    def __len__(self):
        """The number of normalised tokens."""
        return len(self.starts)

    def own_hashes(self):
        """(m,) uint64: the hashes of this file's own k-grams, in file order."""
        return self.hashes[self.own]


@dataclass
class Document:
    """A submission's files, ready for the index.

    Attributes:
        id: how the report names it (an archive entry's id starts with its archive).
        files: CodeFile list in path order.
        archive: True for an entry of an --against archive.
    """
    id: str
    files: list
    archive: bool = False
    problems: list = field(default_factory=list)

    @classmethod
    def build(cls, doc_id, texts, k, scaffold, archive=False, literals=False, trees=None):
        """Tokenize and hash every file.

        Args:
            texts: {relative path: decoded source}.
            k: the k-gram length.
            scaffold: scaffold.Scaffold; its tokens are masked in every file,
                and its raw_k is the raw k-grams' length.
            literals: keep literal values (tokens.normalise).
            trees: {relative path: syntax.nodes} already parsed (else parsed here).
        """
        files, problems = [], []
        for rel in sorted(texts):
            tokens = normalise(texts[rel], literals, (trees or {}).get(rel))
            if tokens.problem:
                problems.append(f"{rel}: {tokens.problem}")
            raw_hashes = fingerprints.kgram_hashes(tokens.raw_ids, scaffold.raw_k)
            hashes = fingerprints.kgram_hashes(tokens.ids, k)
            # only what the index and the report read is kept: tokens go
            files.append(CodeFile(rel, texts[rel], tokens.starts.astype(np.int32),
                                  tokens.ends.astype(np.int32), hashes,
                                  raw_hashes, scaffold.mask(raw_hashes, hashes, len(tokens))))
        return cls(doc_id, files, archive, problems)

    def distinct_hashes(self):
        """(normalised, raw): sorted unique k-gram hashes of all its files, scaffold included.

        Scaffold k-grams count too: a copy that renamed the given code holds
        it in normalised form only, and must find it common to the class.
        """
        empty = np.zeros(0, dtype=np.uint64)
        norm = [f.hashes for f in self.files]
        raw = [f.raw_hashes for f in self.files]
        return (np.unique(np.concatenate(norm)) if norm else empty,
                np.unique(np.concatenate(raw)) if raw else empty)

    def own_count(self):
        return int(sum(int(f.own.sum()) for f in self.files))
