"""Fair grading of course-style submissions (tests/corpus/course): the course's own
scaffold graded at full marks, and every real bug losing exactly the tests that name it.

The corpus is our own code written against the course's published skeletons
(correct/: 2021-2024; correct2025/: Fall 2025, see tests/corpus/COURSE_API.md)
plus edits that plant each real bug kind or right idiom seen in student code;
a few kit-style variants edit a copy of solutions/. Every variant's expected
outcome is declared once, in course/bugs.yaml (expect, may_also_fail, notes),
and read here with check_corpus.py's reader. A variant is graded with the
tests that can see the files it edits (catalogue Kind.affected_by); a base
that declares `expect` is graded with all of them.
"""
import importlib.util
import json
import subprocess
import sys

import pytest

from autograder.catalogue import load_catalogue
from autograder.course.batch import grade_batch
from helpers import KIT

CORPUS = KIT / 'tests' / 'corpus' / 'course'
CATALOGUE = load_catalogue()


def _check_corpus():
    spec = importlib.util.spec_from_file_location('check_corpus', CORPUS / 'check_corpus.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _check_corpus()
BASES, VARIANTS = CHECK.load_corpus()
# Every graded entry: the bases that declare an outcome, then the variants.
GRADED = {name: {'expect': spec['expect'], 'may_also_fail': {}, 'notes': {}, 'edits': [],
                 'base': name} for name, spec in BASES.items() if spec['expect'] is not None}
GRADED.update({v['id']: {'expect': v['expect'], 'may_also_fail': v.get('may_also_fail', {}),
                         'notes': v.get('notes', {}), 'edits': v['edits'], 'base': v['base']}
               for v in VARIANTS})


def test_every_outcome_names_a_test_of_the_rubric_and_every_variant_builds(tmp_path):
    known = set(CATALOGUE.by_id)
    for name, entry in GRADED.items():
        for key in ('expect', 'may_also_fail', 'notes'):
            assert set(entry[key]) <= known, (name, key, sorted(set(entry[key]) - known))
        assert not set(entry['notes']) & set(entry['expect']), name
        CHECK.build(tmp_path / name, BASES[entry['base']]['path'], entry['edits'])


@pytest.mark.slow
def test_the_corpus_checks_itself():
    done = subprocess.run([sys.executable, str(CORPUS / 'check_corpus.py')],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope='module')
def graded(tmp_path_factory, mnist):
    """{entry: (results document, summary)}, graded in batches of the same test selection."""
    root = tmp_path_factory.mktemp('corpus')
    groups = {}
    everything = tuple(t.id for t in CATALOGUE.tests)
    for name, entry in GRADED.items():
        files = sorted({e['file'] for e in entry['edits']})
        only = tuple(t.id for t in CATALOGUE.tests if t.affected_by(files)) if files else everything
        groups.setdefault(only, []).append(name)
    out = {}
    for number, (only, members) in enumerate(groups.items()):
        folder = root / f'group{number}'
        for name in members:
            CHECK.build(folder / name, BASES[GRADED[name]['base']]['path'], GRADED[name]['edits'])
        target = root / f'graded{number}'
        grade_batch(folder, target, jobs=2, only=list(only), progress=False)
        for name in members:
            results = target / 'submissions' / name
            out[name] = (json.loads((results / 'results.json').read_text()),
                         json.loads((results / 'summary.json').read_text()))
    return out


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(GRADED))
def test_each_package_loses_exactly_the_tests_its_declaration_names(graded, name):
    document, summary = graded[name]
    entry = GRADED[name]
    assert summary['status'] == 'graded', summary.get('reason')
    outputs = {t['name'].split(':', 1)[0]: t for t in document['tests']}
    failing = {test: t['output'] for test, t in outputs.items() if t['status'] != 'passed'}
    optional = entry['may_also_fail']
    assert sorted(set(failing) - set(optional)) == sorted(entry['expect']), failing
    for test, words in {**entry['expect'], **optional}.items():
        if test in failing:
            assert words in failing[test], (test, failing[test])
    for test, words in entry['notes'].items():
        assert test in outputs and outputs[test]['status'] == 'passed', (test, outputs.get(test))
        assert words in outputs[test]['output'], (test, outputs[test]['output'])
    if not entry['expect'] and not optional and len(outputs) == len(CATALOGUE.tests):
        assert document['score'] == CATALOGUE.total
