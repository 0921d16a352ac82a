"""The rubric: every scoring fact in one YAML file (autograder/rubric.yaml).

For each test: its title, points, Gradescope visibility, time limit, and the
test's thresholds (a numeric tolerance, or accuracy bands with the
calibration measurements they came from). Reading it rejects unknown,
misspelled or missing keys, and tests that the judge does not know.
"""
import difflib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent / 'rubric.yaml'
VISIBILITIES = ('visible', 'hidden', 'after_due_date', 'after_published')
TEST_KEYS = {'title', 'points', 'visibility', 'timeout', 'tolerance', 'bands',
             'calibration'}
REQUIRED_KEYS = {'title', 'points'}


class RubricError(ValueError):
    """A rubric that cannot be used, with the reason."""


@dataclass(frozen=True)
class Band:
    """Credit (a fraction of the points) for an accuracy at or above min_accuracy."""
    min_accuracy: float
    credit: float


@dataclass
class TestSpec:
    """How one test is scored."""
    id: str
    number: str
    title: str
    points: float
    visibility: str = 'visible'
    timeout: float = 20.0
    tolerance: object = None
    bands: tuple = ()
    calibration: dict = field(default_factory=dict)

    def credit_for(self, accuracy):
        """The fraction of the points an accuracy earns under the bands."""
        for band in self.bands:
            if accuracy >= band.min_accuracy:
                return band.credit
        return 0.0


@dataclass
class Rubric:
    tests: list
    path: Path

    @property
    def total(self):
        return sum(t.points for t in self.tests)

    def get(self, test_id):
        for test in self.tests:
            if test.id == test_id:
                return test
        raise KeyError(test_id)


def _unknown(key, valid, where):
    hint = difflib.get_close_matches(key, valid, n=1)
    guess = f" (did you mean {hint[0]!r}?)" if hint else ""
    return RubricError(f"{where}: unknown {key!r}{guess}; valid: {', '.join(sorted(valid))}")


def _number(value, where, minimum=0.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise RubricError(f"{where} must be a number >= {minimum}, got {value!r}")
    return float(value)


def _bands(raw, where):
    if not isinstance(raw, list) or not raw:
        raise RubricError(f"{where}: bands must be a non-empty list")
    bands = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {'min_accuracy', 'credit'}:
            raise RubricError(f"{where}: band {i + 1} needs exactly min_accuracy and credit")
        bands.append(Band(_number(item['min_accuracy'], f"{where}: min_accuracy"),
                          _number(item['credit'], f"{where}: credit")))
    if [b.min_accuracy for b in bands] != sorted((b.min_accuracy for b in bands), reverse=True):
        raise RubricError(f"{where}: bands must go from the highest accuracy down")
    if any(b.credit > 1 for b in bands):
        raise RubricError(f"{where}: a band's credit is a fraction of the points, at most 1")
    return tuple(bands)


def load_rubric(path=DEFAULT_PATH, known_tests=None):
    """Read and check a rubric file.

    Args:
        path: the YAML file.
        known_tests: ids the judge implements; every rubric test must be one
            of them and each of them must be in the rubric.

    Returns:
        Rubric, tests in file order, numbered 1, 2, ...

    Raises:
        RubricError: with the file, the test and the reason.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise RubricError(f"{path}: cannot read the rubric: {err}") from None
    if not isinstance(raw, dict) or set(raw) != {'tests'} or not isinstance(raw['tests'], dict):
        raise RubricError(f"{path}: the rubric must be a mapping with one key, 'tests', "
                          f"mapping test ids to their settings")
    tests = []
    for number, (test_id, settings) in enumerate(raw['tests'].items(), 1):
        where = f"{path.name}: {test_id}"
        if known_tests is not None and test_id not in known_tests:
            raise _unknown(test_id, known_tests, f"{path.name}: test")
        if not isinstance(settings, dict):
            raise RubricError(f"{where}: settings must be a mapping")
        for key in settings:
            if key not in TEST_KEYS:
                raise _unknown(key, TEST_KEYS, where)
        missing = REQUIRED_KEYS - set(settings)
        if missing:
            raise RubricError(f"{where}: missing {', '.join(sorted(missing))}")
        visibility = settings.get('visibility', 'visible')
        if visibility not in VISIBILITIES:
            raise RubricError(f"{where}: visibility must be one of {', '.join(VISIBILITIES)}")
        spec = TestSpec(
            id=test_id, number=str(number), title=str(settings['title']),
            points=_number(settings['points'], f"{where}: points"), visibility=visibility,
            timeout=_number(settings.get('timeout', 20), f"{where}: timeout", 1),
            tolerance=(None if settings.get('tolerance') is None
                       else _number(settings['tolerance'], f"{where}: tolerance")),
            bands=_bands(settings['bands'], where) if 'bands' in settings else (),
            calibration=dict(settings.get('calibration') or {}))
        tests.append(spec)
    if known_tests is not None:
        absent = sorted(set(known_tests) - {t.id for t in tests})
        if absent:
            raise RubricError(f"{path.name}: no entry for test(s) {', '.join(absent)}")
    return Rubric(tests, path)
