"""Test health: a hidden test that nearly a whole class fails is more likely wrong than the class.

From the results.json of every graded submission of a batch, each test's
pass rate and its most common failure message (numbers masked, so "relative
error 3.1e-02" and "relative error 4.7e-01" count as one). A test is flagged
when at least FAIL_SHARE of the graded class failed it, or when one message
accounts for at least MESSAGE_SHARE of the class; `autograder batch` names the
flagged tests in its last lines and the class report shows every test's
health, so an instructor can read them before releasing grades.
"""
import re
from dataclasses import dataclass

from ..untrusted import printable

FAIL_SHARE = 0.8
MESSAGE_SHARE = 0.5
MIN_CLASS = 5            # fewer graded submissions say nothing about a test
MESSAGE_CHARS = 160
_NUMBER = re.compile(r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?')


@dataclass
class TestHealth:
    """One test over a class: how many passed, and what the failures said most often."""
    id: str
    graded: int
    failed: int
    message: str = ''        # the most common failure message, numbers masked
    message_count: int = 0
    flagged: bool = False

    @property
    def pass_rate(self):
        return (self.graded - self.failed) / self.graded if self.graded else None

    def why(self):
        """Why it is flagged, in one line ('' when it is not)."""
        if not self.flagged:
            return ''
        share = self.message_count / self.graded
        if self.failed >= FAIL_SHARE * self.graded:
            return (f"{self.id}: failed by {self.failed} of {self.graded} graded submissions; "
                    f"most often ({self.message_count}): {self.message}")
        return (f"{self.id}: {self.message_count} of {self.graded} graded submissions "
                f"({share:.0%}) failed it with one message: {self.message}")


def _masked(output):
    text = printable(output, limit=2000, newlines=False)
    return printable(_NUMBER.sub('#', text), limit=MESSAGE_CHARS, newlines=False)


def class_health(documents):
    """[TestHealth] of every test, in the order tests first appear.

    Args:
        documents: the results.json documents (dicts) of the graded submissions;
            anything malformed in them is skipped, never raised on.
    """
    order, graded, failed, messages = [], {}, {}, {}
    for document in documents:
        tests = document.get('tests') if isinstance(document, dict) else None
        for test in tests if isinstance(tests, list) else []:
            if not isinstance(test, dict):
                continue
            test_id = printable(str(test.get('name', '')).split(':', 1)[0].strip(), limit=80,
                                newlines=False) or '(unnamed)'
            if test_id not in graded:
                order.append(test_id)
                graded[test_id], failed[test_id], messages[test_id] = 0, 0, {}
            graded[test_id] += 1
            if test.get('status') != 'passed':
                failed[test_id] += 1
                key = _masked(test.get('output', ''))
                messages[test_id][key] = messages[test_id].get(key, 0) + 1
    out = []
    for test_id in order:
        common = max(messages[test_id].items(), key=lambda kv: kv[1], default=('', 0))
        n = graded[test_id]
        flagged = n >= MIN_CLASS and (failed[test_id] >= FAIL_SHARE * n
                                      or common[1] >= MESSAGE_SHARE * n)
        out.append(TestHealth(test_id, n, failed[test_id], common[0], common[1], flagged))
    return out
