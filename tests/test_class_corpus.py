"""A class of independent right solutions (tests/corpus/class) graded fairly.

Each member is a complete package written from scratch against one of four
handouts (the kit's student_version/ or our course-style handouts in
tests/corpus/scaffolds/); class.yaml declares every member's expected
grade, full marks for all, and the notes some of them get. The fast tests
check the manifest, each member's files and handout text, and prove each
member right with check_class.py's probe selfcheck (numeric gradient checks,
exact SGD steps, loading, batching, plotting; no MNIST). The slow test
grades the whole class with grade_batch.
"""
import importlib.util
import json
import sys

import pytest

from autograder.catalogue import load_catalogue
from autograder.course.batch import grade_batch
from helpers import KIT

CLASS = KIT / 'tests' / 'corpus' / 'class'
CATALOGUE = load_catalogue()


def _check_class():
    # No __pycache__ beside the members: `autograder batch` would take it for one.
    keep, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec = importlib.util.spec_from_file_location('check_class', CLASS / 'check_class.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = keep
    return module


CHECK = _check_class()
CORPUS = CHECK._check_corpus()
MEMBERS = {m['id']: m for m in CHECK.load_manifest()}


def test_the_manifest_lists_exactly_the_member_folders():
    folders = sorted(p.name for p in CLASS.iterdir() if p.is_dir() and p.name != '__pycache__')
    assert sorted(MEMBERS) == folders


def test_the_class_is_a_class():
    """About 22 members over the four handouts, each with its own style line."""
    scaffolds = [m['scaffold'] for m in MEMBERS.values()]
    assert len(MEMBERS) >= 20
    assert scaffolds.count('kit') >= 8 and scaffolds.count('course-2025') >= 4
    assert scaffolds.count('course-2021') + scaffolds.count('course-2023') >= 8
    styles = [m['style'] for m in MEMBERS.values()]
    assert len(set(styles)) == len(styles) and all(len(s) > 20 for s in styles)


def test_every_outcome_names_a_test_of_the_rubric():
    known = set(CATALOGUE.by_id)
    for member in MEMBERS.values():
        assert member['expect'] == {}, member['id']   # a class of right solutions
        assert set(member.get('notes', {})) <= known, member['id']


def test_the_region_reader_finds_every_handout_style():
    course = ['    x = None', '    ' + '#' * 77, '    # TODO:' + ' ' * 66 + '#',
              '    #    1) do it' + ' ' * 61 + '#', '    ' + '#' * 77, '', 'STUDENT', '',
              '    ' + '#' * 77, '    #' + 'END OF YOUR CODE'.center(75) + '#',
              '    ' + '#' * 77, '    return x']
    kit = ['    #' + '-' * 76, '    # TODO: do it', '    #   carefully', '    #' + '-' * 76,
           'STUDENT', '    #' + ' END OF YOUR CODE '.center(76, '-'), '    return x']
    fall = ['    ### TODO: BEGIN SOLUTION ###', 'STUDENT', '    ### END SOLUTION ###']
    for lines in (course, kit, fall):
        (first, end), = CHECK.regions(lines)
        assert 'STUDENT' in lines[first:end] and all(
            line.strip() in ('', 'STUDENT') for line in lines[first:end]), lines[first:end]
        assert 'STUDENT' not in CHECK.handout_lines('\n'.join(lines))


def test_a_changed_handout_line_is_caught(tmp_path):
    member = MEMBERS['c21_camel']
    CORPUS.build(tmp_path / 'c21_camel', CLASS / 'c21_camel')
    assert CHECK.static_problems(member, tmp_path / 'c21_camel') == []
    utils = tmp_path / 'c21_camel' / 'utils.py'
    utils.write_text(utils.read_text().replace('    if seed:\n', '    if seed is not None:\n'))
    assert CHECK.static_problems(member, tmp_path / 'c21_camel') == [
        'utils.py: handout text outside the TODO regions was changed']
    assert CHECK.static_problems(member, tmp_path / 'missing') == ['no folder missing']


@pytest.mark.parametrize('member', sorted(MEMBERS))
def test_each_member_keeps_its_handout_and_the_size_limits(member):
    assert CHECK.static_problems(MEMBERS[member]) == []


@pytest.mark.slow
@pytest.mark.parametrize('member', sorted(MEMBERS))
def test_each_member_is_right_by_the_self_check(member, tmp_path):
    CORPUS.build(tmp_path / member, CLASS / member)
    report = CORPUS.run_probe(tmp_path / member, CHECK.api_style(MEMBERS[member]['scaffold']),
                              selfcheck=True)
    assert len(report['checks']) >= 40, report['checks']


@pytest.fixture(scope='module')
def graded(tmp_path_factory, mnist):
    """{member: (results document, summary)} of the whole class, graded with every test."""
    root = tmp_path_factory.mktemp('class')
    for member in MEMBERS:
        CORPUS.build(root / 'members' / member, CLASS / member)
    target = root / 'graded'
    grade_batch(root / 'members', target, jobs=2, progress=False)
    out = {}
    for member in MEMBERS:
        folder = target / 'submissions' / member
        out[member] = (json.loads((folder / 'results.json').read_text()),
                       json.loads((folder / 'summary.json').read_text()))
    return out


@pytest.mark.slow
@pytest.mark.parametrize('member', sorted(MEMBERS))
def test_each_member_scores_full_marks_with_the_notes_it_declares(graded, member):
    document, summary = graded[member]
    assert summary['status'] == 'graded', summary.get('reason')
    outputs = {t['name'].split(':', 1)[0]: t for t in document['tests']}
    failing = {test: t['output'] for test, t in outputs.items() if t['status'] != 'passed'}
    assert failing == {}, failing
    assert document['score'] == CATALOGUE.total
    for test, words in MEMBERS[member].get('notes', {}).items():
        assert words in outputs[test]['output'], (test, outputs[test]['output'])
