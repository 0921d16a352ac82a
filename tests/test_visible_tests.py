"""The visible tests: green on solutions/, cleanly red on the untouched stubs."""
import re
import sys
import xml.etree.ElementTree as ET

import pytest

from helpers import SOLUTIONS, STUDENT, run


def junit(package, tmp_path):
    """Run `python -m pytest tests` in a package folder; return (exit code, cases)."""
    report = tmp_path / 'report.xml'
    result = run([sys.executable, '-m', 'pytest', 'tests', '-q', '-p', 'no:cacheprovider',
                  f'--junitxml={report}'], cwd=package)
    cases = ET.parse(report).getroot().iter('testcase')
    return result, list(cases)


@pytest.mark.usefixtures('mnist')
def test_visible_tests_pass_on_solutions_with_pytest(tmp_path):
    result, cases = junit(SOLUTIONS, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert len(cases) >= 25


@pytest.mark.usefixtures('mnist')
def test_visible_tests_pass_on_solutions_with_unittest():
    result = run([sys.executable, '-m', 'unittest', 'discover', 'tests'], cwd=SOLUTIONS)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = int(re.search(r'Ran (\d+) tests', result.stderr).group(1))
    assert ran >= 25 and 'OK' in result.stderr


# Tests of code the students receive complete; everything else is theirs to write.
GIVEN = {'test_test_set', 'test_softmax_regression_weights', 'test_two_layer_net_weights'}


@pytest.mark.usefixtures('mnist')
def test_stubs_fail_every_implementation_test_with_not_implemented(tmp_path):
    result, cases = junit(STUDENT, tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]  # failures, not a crash (2-4)
    failed = {}
    for case in cases:
        problems = case.findall('failure') + case.findall('error')
        if problems:
            failed[case.get('name')] = ' '.join(p.get('message', '') for p in problems)
    names = {case.get('name') for case in cases}
    assert names - failed.keys() == GIVEN, "only the tests of given code may pass"
    for name, message in failed.items():
        assert 'NotImplementedError' in message and 'is not implemented yet' in message, \
            f"{name}: {message}"


@pytest.mark.usefixtures('mnist')
def test_stubs_under_unittest_error_without_import_failures():
    result = run([sys.executable, '-m', 'unittest', 'discover', 'tests'], cwd=STUDENT)
    assert result.returncode == 1
    assert 'ImportError' not in result.stderr and 'ModuleNotFoundError' not in result.stderr
    assert re.search(r'FAILED \(errors=\d+\)', result.stderr), result.stderr[-2000:]
    assert result.stderr.count('NotImplementedError: ') >= 20
