"""The types a hidden test and the judge share: what is asked, answered and decided."""
import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Request:
    """One probe run: the probe's name, its parameters and its input arrays.

    answer_bytes bounds the answer: the judge refuses to decode more array
    data than this (see grading.decode).
    """
    probe: str
    params: dict
    arrays: dict = field(default_factory=dict)
    answer_bytes: int = 2**20


@dataclass
class Answer:
    """One probe's answer, validated: float64 arrays and a JSON-like meta.

    Attributes:
        arrays: name -> float64 ndarray.
        meta: the decoded '__meta__' mapping (JSON types only).
        error: None, or why there is no usable answer (a sentence for the
            student).
        cause: who the error is on: 'student' (the code raised, ran out of
            its budget, crashed, returned something malformed), 'busy' (cut
            short on a machine others kept busy, after every retry: scored as
            failed, and the instructor is told) or 'infrastructure' (the
            grader or a sandbox that cannot start: never a score).
    """
    arrays: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    error: object = None
    cause: str = 'student'


@dataclass
class Verdict:
    """The share of the points earned (0 to 1), the feedback, and facts for later tests.

    facts: e.g. {'accuracy': 0.93} (the leaderboard), {'helpers': [...]} (which
    trusted helpers made a model test pass); read by tests that depend on
    this one, never by the student.
    """
    fraction: float
    message: str
    facts: dict = field(default_factory=dict)

    @property
    def passed(self):
        return self.fraction >= 1.0


@dataclass
class Context:
    """What a test may know when it builds requests and judges answers.

    Args:
        secret: bytes, the course's secret (hidden inputs are drawn from it).
        digest: the submission's content digest: inputs differ between
            submissions and stay the same when one is graded again.
        verdicts: {test id: Verdict} of the tests judged so far.
        train_transform: (784, 784) float64 matrix A: the training split the
            sandbox trains on is (noisy) public images times A (grading/data.py).
        trained: {accuracy test id: what the judge saw of its training so far}.
        scaffold: the catalogue.scaffolds.Scaffold the package was written
            against (None: every requirement counts as stated).
    """
    secret: bytes
    digest: str
    verdicts: dict = field(default_factory=dict)
    train_transform: object = None
    trained: dict = field(default_factory=dict)
    scaffold: object = None

    def stated(self, requirement):
        """Whether the package's scaffold asked for `requirement`."""
        return self.scaffold is None or self.scaffold.stated(requirement)

    def rng(self, test_id, salt=''):
        """The hidden random generator of one test for this submission."""
        h = hashlib.sha256(b'inputs\0' + self.secret)
        h.update(f'\0{test_id}\0{salt}\0{self.digest}'.encode())
        return np.random.default_rng(int.from_bytes(h.digest()[:8], 'little'))

    def failed(self, test_id):
        """True when that test was judged and did not pass."""
        verdict = self.verdicts.get(test_id)
        return verdict is not None and not verdict.passed
