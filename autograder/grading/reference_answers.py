"""The reference solution's answers, kept for requests a grading asks again.

Most hidden inputs are drawn per submission (catalogue Context.rng), so the
reference answers them afresh each grading. Some requests carry no hidden
input at all (data.split loads the public images: the same request for every
submission), and the reference is trusted and deterministic: the same
request always gets the same answer. A Grader keeps one ReferenceAnswers for
all its submissions, so a batch worker runs such a request once instead of
once per submission, and a grading whose reference requests were all seen
starts no reference process.

A request is known by its content (probe, params, every array's dtype,
shape and bytes), never by its file name, which numbers requests per
grading. The store is bounded (least recently used go first): requests
drawn per submission never come back and only pass through.
"""
import copy
import hashlib
import json
from collections import OrderedDict

import numpy as np

# Entries kept: a grading asks the reference a few dozen requests, and those
# asked by every grading are used again each time, so they stay.
MAX_ENTRIES = 256
# Bytes of answer arrays kept (the largest answer, data.split's, is about 1 MB).
MAX_BYTES = 64 * 2**20


def request_key(request):
    """sha256 hex of a catalogue Request's content: probe, params and arrays."""
    h = hashlib.sha256()
    h.update(json.dumps([request.probe, request.params], sort_keys=True).encode())
    for name in sorted(request.arrays):
        array = np.ascontiguousarray(request.arrays[name])
        h.update(json.dumps([name, array.dtype.str, array.shape]).encode())
        h.update(array.tobytes())
    return h.hexdigest()


def _size(answer):
    return sum(getattr(a, 'nbytes', 0) for a in answer.arrays.values())


class ReferenceAnswers:
    """{request key: sessions.Outcome} of the reference, least recently used first."""

    def __init__(self, max_entries=MAX_ENTRIES, max_bytes=MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._store = OrderedDict()  # key -> (Outcome, bytes)
        self._bytes = 0
        self.hits = self.misses = 0

    def get(self, key):
        """A copy of the stored Outcome (checks may not change the stored one), or None."""
        entry = self._store.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._store.move_to_end(key)
        return copy.deepcopy(entry[0])

    def put(self, key, outcome):
        """Keep a successful answer (an error is never kept: it is reported, not reused)."""
        if outcome.answer.error:
            return
        size = _size(outcome.answer)
        if size > self.max_bytes:
            return
        if key in self._store:
            self._bytes -= self._store.pop(key)[1]
        self._store[key] = (copy.deepcopy(outcome), size)
        self._bytes += size
        while len(self._store) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, dropped) = self._store.popitem(last=False)
            self._bytes -= dropped

    def __len__(self):
        return len(self._store)
