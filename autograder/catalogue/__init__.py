"""The hidden tests: one declaration each, in autograder/rubric.yaml.

Every fact of a test sits in its rubric entry: id, title, points,
Gradescope visibility, CPU budget, its kind and every parameter of that kind
(tolerances, thresholds, input sizes and scales, accuracy bands), and what
it contributes to the leaderboard. load_catalogue() reads and checks the
file once; everything else (totals, counts, stage names, the order of the
tests) is derived from what it returns. Whether a test needs the
reference solution, and which files it exercises, follow from its kind.

Modules: schema (reading and checking parameters), types (what a test and
the judge share: Request, Answer, Verdict, Context), kind (the base Kind and
its comparisons), the kinds (one module each: function and loss_at_zero in
functions.py, optimizer, split and batching in data.py, plot, model in
models.py, accuracy), scaffolds (what each scaffold states), reference (the
reference's own models, run by the judge for the accuracy tests). Never
shipped to students. The catalogue imports nothing of the kit but paths and
untrusted: the grading, course and authoring packages import it.

Scaffolds (autograder/scaffolds.yaml, scaffolds.py): each test lists the
requirements it enforces (`requires:`), and each scaffold students write
against states some of them, in its own words. A submission is graded by
what its scaffold asked: a test none of whose requirements the scaffold
states passes whatever the answer, its failure shown as a note
(`unstated()`); a kind with several requirements asks `Context.stated()`
for the ones it may drop.
"""
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import paths
from . import schema as s
from .accuracy import Accuracy
from .data import Batching, Split
from .functions import Function, LossAtZero
from .models import Model
from .optimizer import Optimizer
from .plot import Plot
from .scaffolds import detect as detect_scaffold, load_scaffolds
from .schema import RubricError

KINDS = {kind.name: kind for kind in (Function, LossAtZero, Optimizer, Split, Batching, Plot,
                                      Model, Accuracy)}
VISIBILITIES = ('visible', 'hidden', 'after_due_date', 'after_published')
COMMON = {
    'title': s.Param(s.text, doc="what the student sees as the test's name"),
    'points': s.Param(s.number(0), doc="its weight; the total is the sum"),
    'visibility': s.Param(s.choice(*VISIBILITIES), 'visible', "Gradescope's visibility"),
    'kind': s.Param(s.choice(*KINDS), doc="what sort of test it is"),
    'cpu_seconds': s.Param(s.number(above=0), doc="CPU-time budget of each of its runs"),
    'leaderboard': s.Param(lambda v: v if v is None else s.text(v), None,
                           "the leaderboard column it fills"),
    'requires': s.Param(s.listing(s.text, 1), doc="the requirements it enforces, each "
                                                  "stated by some scaffold (scaffolds.yaml)"),
}


@dataclass(frozen=True)
class TestSpec:
    """One rubric entry, checked: the common facts and the kind's parameters."""
    id: str
    number: str
    title: str
    points: float
    visibility: str
    kind: str
    cpu_seconds: float
    leaderboard: object = None
    requires: tuple = ()
    params: dict = field(default_factory=dict)


@dataclass
class Catalogue:
    """The tests of a rubric, in file order, each a Kind instance (test.spec, test.p),
    and the scaffolds whose statements they are traced to."""
    tests: list
    path: Path
    scaffolds: dict = field(default_factory=dict)

    def scaffold(self, name=None, files=None):
        """(Scaffold, why): the one named, else the one `files` were written against."""
        if name is not None:
            if name not in self.scaffolds:
                raise s.unknown(name, self.scaffolds, 'scaffold')
            return self.scaffolds[name], "named by the instructor"
        return detect_scaffold(self.scaffolds, files or {})

    @property
    def by_id(self):
        return {t.id: t for t in self.tests}

    @property
    def total(self):
        return sum(t.spec.points for t in self.tests)

    @property
    def stages(self):
        """Timing stages in the order tests run (a kind's `stage`)."""
        return list(dict.fromkeys(t.stage for t in sorted(self.tests, key=lambda t: t.phase)))

    def leaderboard(self):
        return {t.id: t.spec.leaderboard for t in self.tests if t.spec.leaderboard}


def load_catalogue(path=None, scaffolds_path=None):
    """Read and check the rubric file (and the scaffolds beside it).

    Returns:
        Catalogue, tests in file order, numbered 1, 2, ...

    Raises:
        RubricError: with the file, the test and the reason.
    """
    path = Path(path or paths.RUBRIC)
    scaffolds = load_scaffolds(scaffolds_path or paths.SCAFFOLDS)
    stated = {r for scaffold in scaffolds.values() for r in scaffold.states}
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise RubricError(f"{path}: cannot read the rubric: {err}") from None
    if not isinstance(raw, dict) or set(raw) != {'tests'} or not isinstance(raw['tests'], dict) \
            or not raw['tests']:
        raise RubricError(f"{path}: the rubric must be a mapping with one key, 'tests', "
                          f"mapping test ids to their declarations")
    tests = []
    for number, (test_id, settings) in enumerate(raw['tests'].items(), 1):
        where = f"{path.name}: {test_id}"
        if not isinstance(settings, dict):
            raise RubricError(f"{where}: its declaration must be a mapping")
        kind = KINDS.get(settings.get('kind'))
        if kind is None:
            raise s.unknown(settings.get('kind'), KINDS, f"{where}: kind")
        common = s.parse({k: v for k, v in settings.items() if k in COMMON}, COMMON, where)
        rest = {k: v for k, v in settings.items() if k not in COMMON}
        for key in rest:
            if key not in kind.PARAMS:
                raise s.unknown(key, {**COMMON, **kind.PARAMS}, where)
        params = s.parse(rest, kind.PARAMS, where)
        unknown = [r for r in common['requires'] if r not in stated]
        if unknown:
            raise RubricError(f"{where}: requires {', '.join(unknown)}, which no scaffold "
                              f"states ({paths.SCAFFOLDS.name}): a rule nobody was given "
                              f"cannot be graded")
        spec = TestSpec(id=str(test_id), number=str(number), title=common['title'],
                        points=common['points'], visibility=common['visibility'],
                        kind=common['kind'], cpu_seconds=common['cpu_seconds'],
                        leaderboard=common['leaderboard'],
                        requires=tuple(common['requires']), params=params)
        tests.append(kind(spec))
    _check_dependencies(tests, path)
    return Catalogue(tests, path, scaffolds)


def unstated(test, scaffold):
    """The test's requirements that `scaffold` does not state (all of them: the test
    costs nothing for that scaffold's code)."""
    return [r for r in test.spec.requires if not scaffold.stated(r)]


def _check_dependencies(tests, path):
    known = {t.id: t for t in tests}
    for test in tests:
        for other in test.depends_on():
            if other not in known:
                raise s.unknown(other, known, f"{path.name}: {test.id}: depends on test")
            if known[other].phase > test.phase:
                raise RubricError(f"{path.name}: {test.id} depends on {other}, which runs later")
    judge_order(tests)  # raises on a cycle


def judge_order(tests):
    """The tests in an order where every test comes after the tests it depends on."""
    known = {t.id: t for t in tests}
    ordered, placing = [], set()

    def place(test):
        if test in ordered:
            return
        if test.id in placing:
            raise RubricError(f"tests depend on each other in a circle through {test.id}")
        placing.add(test.id)
        for other in test.depends_on():
            if other in known:
                place(known[other])
        ordered.append(test)

    for test in sorted(tests, key=lambda t: t.phase):
        place(test)
    return ordered


def select(catalogue, patterns):
    """The catalogue's tests whose ids match any glob pattern (all if none).

    Raises:
        ValueError: no test matches.
    """
    import fnmatch
    if not patterns:
        return list(catalogue.tests)
    chosen = [t for t in catalogue.tests
              if any(fnmatch.fnmatchcase(t.id, p) for p in patterns)]
    if not chosen:
        raise ValueError(f"no test matches {', '.join(patterns)}; tests: "
                         f"{', '.join(t.id for t in catalogue.tests)}")
    return chosen
