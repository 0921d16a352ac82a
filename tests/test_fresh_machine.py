"""The README's quick start, as CI and .ci/fresh run it.

The fast tests check that the README's two commands have the shape a fresh
machine needs (a venv, pip upgraded inside it before the editable install),
that .ci/run runs exactly those commands, and that the Python versions the
README states are the ones pyproject.toml declares. The real thing, the two
commands on a debootstrapped minimal Debian or Ubuntu, is `.ci/fresh` (a few
minutes a system, as root): KIT_FRESH_SUITES="bookworm bullseye" runs it here.
"""
import os
import re

import pytest

from helpers import KIT, run

CI = KIT / '.ci'


def readme(what):
    result = run(['bash', str(CI / 'readme'), what])
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_setup_command_makes_and_uses_a_venv_with_a_current_pip():
    setup = readme('setup')
    steps = [s.strip() for s in setup.split('&&')]
    assert steps[:3] == ['python3 -m venv .venv', '. .venv/bin/activate',
                         'python -m pip install -U pip'], steps
    # pip is upgraded before the editable install (Debian 11's pip 20.3 cannot
    # install a pyproject-only project in editable mode).
    assert steps.index("pip install -e '.[test]'") > steps.index('python -m pip install -U pip')
    assert any(s.startswith('./get_data.sh') for s in steps)
    assert setup.endswith('(cd solutions && python train.py configs/config_twolayer.yaml)')


def test_test_command_runs_pytest_in_that_venv():
    assert readme('test') == '. .venv/bin/activate && python -m pytest --durations=25'


def test_readme_names_what_to_install_first_and_the_venv_is_ignored():
    assert readme('packages') == 'python3-venv'
    # Read .gitignore itself: the kit may be an unpacked copy, with no git at hand.
    patterns = (KIT / '.gitignore').read_text().split()
    assert {'/.venv/', '.venv/', '/.venv', '.venv'} & set(patterns), ".venv/ must be git-ignored"


def test_ci_runs_the_readme_commands_verbatim():
    text = (CI / 'run').read_text()
    assert 'setup=$(.ci/readme setup)' in text and 'tests=$(.ci/readme test)' in text
    assert 'bash -c "$setup"' in text and 'bash -c "$tests"' in text
    # set -e: a red test command stops CI. After it, by default, CI runs only
    # the busy-machine sample (.ci/under-load), inside the README's venv.
    assert 'set -euo pipefail' in text
    default = text.split('if [ "${CI_FRESH:-0}" != 0 ]; then')[0]
    after = [line for line in default.split('bash -c "$tests"', 1)[1].splitlines()
             if line.strip() and not line.lstrip().startswith(('#', 'step '))]
    assert after == ['bash -c ". .venv/bin/activate && bash .ci/under-load"'], after
    for script in ('run', 'fresh', 'readme'):
        assert run(['bash', '-n', str(CI / script)]).returncode == 0, script


def test_fresh_has_help_for_a_new_ta():
    result = run(['bash', str(CI / 'fresh'), '--help'])
    assert result.returncode == 0, result.stderr
    assert 'debootstrap' in result.stdout and 'bullseye' in result.stdout
    assert run(['bash', str(CI / 'fresh'), '--no-such-option']).returncode == 2


def test_supported_python_versions_match_pyproject():
    pyproject = (KIT / 'pyproject.toml').read_text()
    minimum = re.search(r'^requires-python = ">=(3\.\d+)"', pyproject, re.M).group(1)
    manual = (KIT / 'docs' / 'maintaining.md').read_text()
    section = manual.split('## Supported Python versions')[1].split('\n## ')[0]
    assert f'`requires-python = ">={minimum}"`' in section
    top = (KIT / 'README.md').read_text().split('```bash')[0]
    assert re.search(rf'\b{re.escape(minimum)}\b', top), "the quick start must name the minimum"


def test_gradescope_setup_installs_like_a_fresh_image():
    from autograder.authoring import gradescope

    apt = [line for line in gradescope.SETUP.splitlines() if 'apt-get install' in line]
    assert apt and all('--no-install-recommends' in line for line in apt)
    assert '--system-site-packages' not in gradescope.SETUP
    assert 'pip install -q --upgrade pip' in gradescope.SETUP


@pytest.mark.skipif(not os.environ.get('KIT_FRESH_SUITES'),
                    reason='set KIT_FRESH_SUITES="bookworm ..." to run .ci/fresh (root, debootstrap)')
def test_readme_on_debootstrapped_systems():
    result = run(['bash', str(CI / 'fresh'), *os.environ['KIT_FRESH_SUITES'].split()],
                 timeout=3600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
