"""The reference's answers kept across a Grader's gradings (grading/reference_answers.py)."""
import numpy as np

from autograder.catalogue.types import Answer, Request
from autograder.grading.reference_answers import ReferenceAnswers, request_key
from autograder.grading.sessions import Outcome


def outcome(n=4, error=None):
    return Outcome(Answer({'x': np.arange(n, dtype=np.float64)}, {'n': n}, error=error))


def test_a_request_is_known_by_its_content():
    a = Request('split', {}, {})
    assert request_key(a) == request_key(Request('split', {}, {}, answer_bytes=1))
    X = np.ones((3, 2))
    assert request_key(Request('p', {'k': 1}, {'X': X})) == \
        request_key(Request('p', {'k': 1}, {'X': X.copy()}))
    others = [Request('batching', {}, {}), Request('split', {'k': 1}, {}),
              Request('p', {'k': 1}, {'X': X * 2}), Request('p', {'k': 1}, {'X': X.T}),
              Request('p', {'k': 1}, {'X': X.astype(np.float32)}),
              Request('p', {'k': 1}, {'Y': X})]
    keys = {request_key(r) for r in [Request('p', {'k': 1}, {'X': X}), *others]}
    assert len(keys) == 1 + len(others)


def test_answers_come_back_as_copies_and_errors_are_not_kept():
    store = ReferenceAnswers()
    assert store.get('a') is None and store.misses == 1
    store.put('a', outcome())
    got = store.get('a')
    got.answer.arrays['x'][:] = -1
    got.answer.meta['n'] = 0
    again = store.get('a')
    assert again.answer.arrays['x'].tolist() == [0, 1, 2, 3] and again.answer.meta == {'n': 4}
    assert store.hits == 2
    store.put('b', outcome(error='the reference raised'))
    assert store.get('b') is None and len(store) == 1


def test_the_store_is_bounded_least_recently_used_first():
    store = ReferenceAnswers(max_entries=2, max_bytes=100 * 8)
    store.put('a', outcome())
    store.put('b', outcome())
    store.get('a')
    store.put('c', outcome())  # 'b' was used least recently
    assert store.get('b') is None and store.get('a') and store.get('c')
    store.put('big', outcome(n=60))
    store.put('big2', outcome(n=60))  # 960 bytes > 800: 'big' goes
    assert len(store) == 1 and store.get('big2')
    store.put('huge', outcome(n=200))  # alone larger than the bound: never kept
    assert store.get('huge') is None and store.get('big2')
