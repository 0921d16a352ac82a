"""The README is a landing page that links every page of the manual, and the commands they show work.

Every shell line of a ```bash block in README.md and docs/*.md that runs
`autograder`, `python -m bench` or `python -m pytest` is checked against the
real argument parser (an option renamed or dropped fails here), and the
ones with no side effects are run. The README's two quick-start commands are
run verbatim by CI (.ci/run).
"""
import re
import shlex
import subprocess
import sys

import pytest

from helpers import KIT

README = KIT / 'README.md'
DOCS = sorted((KIT / 'docs').glob('*.md'))
PAGES = [README, *DOCS]
# Commands run for real: they write nothing and need no fixture.
RUN = ('autograder tests -v', 'autograder stubs --check', 'autograder mutants --list')


def _commands(path):
    """(page, line) of every command line in the page's ```bash blocks."""
    out, inside = [], False
    for line in path.read_text().splitlines():
        if line.strip() == '```bash':
            inside = True
        elif line.strip() == '```':
            inside = False
        elif inside and line.strip() and not line.lstrip().startswith('#'):
            out.append(line.split(' #')[0].strip())
    return out


ALL = [(path.name, line) for path in PAGES for line in _commands(path)]


def test_the_readme_is_a_landing_page_linking_every_page():
    text = README.read_text()
    assert len(text.encode()) < 15 * 1024, f"README.md is {len(text.encode())} bytes"
    for page in DOCS:
        assert f'docs/{page.name}' in text, f"README.md does not link docs/{page.name}"
    for link in re.findall(r'\]\(([^)#]+)', text):
        if not link.startswith('http'):
            assert (KIT / link).exists(), f"README.md links {link}, which does not exist"


@pytest.mark.parametrize('page', DOCS, ids=lambda p: p.name)
def test_every_link_of_a_page_leads_somewhere(page):
    for link in re.findall(r'\]\(([^)#]+)', page.read_text()):
        if not link.startswith(('http', 'mailto')):
            assert (page.parent / link).resolve().exists(), f"{page.name} links {link}"


def _anchors(path):
    """The anchors GitHub gives the headings of a Markdown page (lower case, punctuation
    dropped but '-' and '_', spaces to '-'; a repeated heading gets -1, -2...)."""
    seen, out = {}, set()
    inside = False
    for line in path.read_text().splitlines():
        if line.startswith('```'):
            inside = not inside
        if inside or not re.match(r'#{1,6} ', line):
            continue
        slug = re.sub(r'[^\w\- ]', '', line.lstrip('#').strip().lower()).replace(' ', '-')
        out.add(slug if slug not in seen else f'{slug}-{seen[slug]}')
        seen[slug] = seen.get(slug, 0) + 1
    return out


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_every_anchor_a_page_links_is_a_heading(page):
    for target, anchor in re.findall(r'\]\(([^)#\s]*)#([^)\s]+)\)', page.read_text()):
        if target.startswith(('http', 'mailto')):
            continue
        linked = (page.parent / target).resolve() if target else page
        if linked.suffix == '.md':
            assert anchor in _anchors(linked), f"{page.name} links {target}#{anchor}: no such heading"


def _argv(line):
    words = shlex.split(line)
    if words[:1] == ['autograder']:
        return 'autograder', words[1:]
    if words[:3] == ['python', '-m', 'bench']:
        return 'bench', words[3:]
    if words[:3] == ['python', '-m', 'pytest']:
        return 'pytest', words[3:]
    return None, words


@pytest.mark.parametrize('page,line', [c for c in ALL if _argv(c[1])[0]],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_every_command_a_page_shows_parses(page, line):
    kind, argv = _argv(line)
    if kind == 'autograder':
        from autograder.cli import build_parser
        if argv == ['--help']:
            return
        build_parser().parse_args(argv)
    elif kind == 'bench':
        from bench.cli import build_parser
        build_parser().parse_args(argv)
    else:
        known = {'slow', 'tex', 'browser', 'root'}
        for flag, value in zip(argv, argv[1:]):
            if flag == '-m':
                words = set(re.findall(r'[a-z_]+', value)) - {'not', 'and', 'or'}
                assert words <= known, f"{page}: {line}: unknown marker {words - known}"


def test_the_commands_a_page_shows_that_write_nothing_run():
    shown = {line for _, line in ALL}
    missing = [c for c in RUN if c not in shown]
    assert not missing, f"no page shows {missing} any more: update RUN"
    for command in RUN:
        argv = shlex.split(command)
        done = subprocess.run([sys.executable, '-m', 'autograder', *argv[1:]], cwd=KIT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stderr[-2000:])
