"""The visible tests: every one passes on solutions/ and fails on the untouched stubs.

Each test is checked on its own, under both runners students use, from the
package folder: `python -m pytest` and `python -m unittest discover tests`.
A test that passes on the stubs checks nothing a student writes; a test that
runs under one runner only, or vanishes under one, is caught by comparing the
two runners' lists.
"""
import re
import sys
import xml.etree.ElementTree as ET

import pytest

from helpers import SOLUTIONS, STUDENT, run

STUB_MESSAGE = 'is not implemented yet'
# unittest -v: "test_x (test_mod.TestClass.test_x) ... ok" (Python >= 3.11) or
# "test_x (test_mod.TestClass) ... ok" (older), a docstring line possibly between.
VERBOSE_LINE = re.compile(
    r'^(?P<name>test\w*) \((?P<where>[\w.]+)\)\n?(?:[^\n]*?)? ?\.\.\. '
    r'(?P<status>ok|FAIL|ERROR|skipped[^\n]*|expected failure|unexpected success)$', re.M)


def pytest_outcomes(package, tmp_path):
    """Run `python -m pytest tests` in `package`.

    Returns:
        (CompletedProcess, {'module.Class.test': (outcome, message)}) with
        outcome 'passed', 'failed', 'error' or 'skipped'.
    """
    report = tmp_path / 'report.xml'
    result = run([sys.executable, '-m', 'pytest', 'tests', '-q', '-p', 'no:cacheprovider',
                  f'--junitxml={report}'], cwd=package)
    outcomes = {}
    for case in ET.parse(report).getroot().iter('testcase'):
        key = f"{case.get('classname').removeprefix('tests.')}.{case.get('name')}"
        outcome, message = 'passed', ''
        for kind in ('failure', 'error', 'skipped'):
            found = case.findall(kind)
            if found:
                outcome = 'failed' if kind == 'failure' else kind
                message = ' '.join((p.get('message') or '') + ' ' + (p.text or '')
                                   for p in found)
                break
        assert key not in outcomes, f"{key} reported twice (subtests?)"
        outcomes[key] = (outcome, message)
    return result, outcomes


def unittest_outcomes(package):
    """Run `python -m unittest discover tests -v` in `package`.

    Returns:
        (CompletedProcess, {'module.Class.test': (status, traceback)}) with
        status 'ok', 'FAIL', 'ERROR', 'skipped ...'; a test whose status line
        could not be read (subTest output, say) gets status None.
    """
    result = run([sys.executable, '-m', 'unittest', 'discover', 'tests', '-v'], cwd=package)
    outcomes = {}
    for match in VERBOSE_LINE.finditer(result.stderr):
        where = match['where']
        key = where if where.endswith('.' + match['name']) else f"{where}.{match['name']}"
        outcomes[key] = (match['status'], '')
    # The failure reports: "ERROR: test_x (test_mod.TestClass.test_x)" then the traceback.
    for block in re.split(r'^={50,}\n', result.stderr, flags=re.M)[1:]:
        head = re.match(r'(?:FAIL|ERROR): (test\w*) \(([\w.]+)\)', block)
        if head:
            name, where = head.groups()
            key = where if where.endswith('.' + name) else f"{where}.{name}"
            outcomes[key] = (outcomes.get(key, (None,))[0], block)
    ran = re.search(r'^Ran (\d+) tests?', result.stderr, re.M)
    for number in range(int(ran[1]) - len(outcomes) if ran else 1):
        outcomes[f'<unparsed {number}>'] = (None, result.stderr[-3000:])
    return result, outcomes


@pytest.fixture(scope='module')
def runs(mnist, tmp_path_factory):
    """Both runners on both packages, run once for all the tests below."""
    done = {}
    for label, package in (('solutions', SOLUTIONS), ('stubs', STUDENT)):
        done[label, 'pytest'] = pytest_outcomes(package, tmp_path_factory.mktemp(label))
        done[label, 'unittest'] = unittest_outcomes(package)
    return done


@pytest.mark.slow
@pytest.mark.parametrize('runner', ['pytest', 'unittest'])
def test_every_visible_test_passes_on_the_solutions(runs, runner):
    result, outcomes = runs['solutions', runner]
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert len(outcomes) >= 30
    passed = 'passed' if runner == 'pytest' else 'ok'
    not_passed = {k: v[0] for k, v in outcomes.items() if v[0] != passed}
    assert not_passed == {}, "every visible test must pass (none skipped) on the solutions"


@pytest.mark.parametrize('runner', ['pytest', 'unittest'])
def test_every_visible_test_fails_on_the_stubs_with_not_implemented(runs, runner):
    result, outcomes = runs['stubs', runner]
    assert result.returncode == 1, (result.stdout + result.stderr)[-3000:]  # not a crash
    assert outcomes.keys() == runs['solutions', runner][1].keys(), \
        "the same tests must run on the stubs as on the solutions"
    failing = ('failed', 'error') if runner == 'pytest' else ('FAIL', 'ERROR')
    passing = sorted(k for k, (status, _) in outcomes.items() if status not in failing)
    assert passing == [], ("these visible tests pass on the untouched stubs, so they check "
                           "nothing a student writes")
    for key, (_, message) in outcomes.items():
        assert 'NotImplementedError' in message and STUB_MESSAGE in message, \
            f"{key} on the stubs should fail by hitting a TODO:\n{message[-1500:]}"
    if runner == 'pytest':
        summary = result.stdout.strip().splitlines()[-1]
        assert re.fullmatch(rf'{len(outcomes)} failed in [\d.]+s', summary), summary
    else:
        assert 'ImportError' not in result.stderr and 'ModuleNotFoundError' not in result.stderr
        assert re.search(r'FAILED \((failures=\d+, )?errors=\d+\)|FAILED \(failures=\d+\)',
                         result.stderr)


def test_both_runners_run_the_same_tests(runs):
    assert runs['solutions', 'pytest'][1].keys() == runs['solutions', 'unittest'][1].keys()


def test_no_visible_test_uses_subtests():
    # Under pytest a test whose subTests all fail still counts as passed: the
    # student would see "passed" for broken code.
    for path in sorted((SOLUTIONS / 'tests').glob('test_*.py')):
        assert 'self.subTest(' not in path.read_text(), \
            f"{path.name}: test each case in its own method, not with subTest"
