"""Code every student received: left out of every comparison.

The kit's own stubs (the .py files of student_version/) always count; each
--scaffold DIR adds the .py files under DIR (the course's skeleton, an older
release of the kit). A token of a submission is scaffold when it lies in a
run of `raw_k` tokens, as written (names, numbers and strings not
normalised: given code is copied verbatim), that also occurs in a scaffold
file (comments, docstrings and spacing still do not count), or in a k-gram
of normalised tokens that does (given code with its names changed). The run is
shorter than the comparison's k-grams so that the few tokens of a stub left
between two pieces of a student's code (`return prob`, the next `def` line)
are caught too: otherwise every student would share the k-grams that
straddle them.
"""
import os
from pathlib import Path

import numpy as np

from . import fingerprints
from .source import decode
from .tokens import normalise

MAX_FILES = 2000           # .py files read from one scaffold folder
MAX_FILE_BYTES = 2 * 2**20


class ScaffoldError(ValueError):
    """A --scaffold folder cannot be used; the message says why."""


def python_files(folder):
    """(relative POSIX path, bytes) of the .py files under `folder`, capped, links skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScaffoldError(f"{folder}: not a folder")
    found = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and d != '__pycache__')
        for name in sorted(names):
            path = Path(root) / name
            if not name.endswith('.py') or path.is_symlink():
                continue
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
                found.append((path.relative_to(folder).as_posix(), path.read_bytes()))
            except OSError:
                continue
            if len(found) >= MAX_FILES:
                return found
    return found


class Scaffold:
    """The scaffold's k-gram hashes (sorted, unique) and where they came from."""

    def __init__(self, folders, raw_k, k, literals=False):
        self.raw_k, self.k = raw_k, k
        self.sources = []  # (folder, number of .py files)
        raw, norm = [], []
        for folder in folders:
            files = python_files(folder)
            self.sources.append((str(folder), len(files)))
            for _, data in files:
                tokens = normalise(decode(data).text, literals)
                raw.append(fingerprints.kgram_hashes(tokens.raw_ids, raw_k))
                norm.append(fingerprints.kgram_hashes(tokens.ids, k))
        empty = np.zeros(0, dtype=np.uint64)
        self.raw_hashes = np.unique(np.concatenate(raw)) if raw else empty
        self.hashes = np.unique(np.concatenate(norm)) if norm else empty

    def mask(self, raw_hashes, hashes, n):
        """(n,) bool over a file's n tokens: those inside a scaffold run.

        Args:
            raw_hashes: the file's raw_k-gram hashes of raw token ids.
            hashes: its k-gram hashes of normalised tokens.
        """
        return fingerprints.covered_tokens(
            fingerprints.member(raw_hashes, self.raw_hashes), n, self.raw_k) | \
            fingerprints.covered_tokens(fingerprints.member(hashes, self.hashes), n, self.k)
