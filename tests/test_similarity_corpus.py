"""The similarity check on the whole corpus (issue #22's acceptance): at the default threshold
at most 1% of the pairs of independent solutions are flagged, and every disguised copy is
flagged with the member it copies; one transplanted file is named as the one carrying it.

The corpus (tests/corpus/similarity/corpus.py): the class of independent solutions of
tests/corpus/class/, the five kit students of kit_members.py and the reference, with
disguised copies of members planted (renamed, stripped, reordered, respaced, all four,
behind a UTF-7 cookie, one file transplanted). docs/similarity.md has the numbers.
"""
import sys

import pytest

from autograder.course import similarity
from helpers import KIT

sys.path.insert(0, str(KIT / 'tests' / 'corpus' / 'similarity'))
import corpus  # noqa: E402

pytestmark = pytest.mark.slow  # builds and compares a class of 31 submissions twice (~9 s)
SCAFFOLDS = sorted(corpus.SCAFFOLDS.glob('*'))
MAX_FLAGGED = 0.01  # of the pairs of independent members


@pytest.fixture(scope='module')
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp('corpus') / 'class'
    return folder, corpus.build(folder)


@pytest.fixture(scope='module', params=['with the handouts as --scaffold', 'no --scaffold'])
def result(request, planted):
    folder, manifest = planted
    scaffolds = SCAFFOLDS if request.param.startswith('with') else []
    return similarity.compare(folder, scaffolds=scaffolds), manifest


def test_the_corpus_is_a_class(planted):
    _, manifest = planted
    independent, copies = manifest['independent'], manifest['copies']
    assert len(independent) >= 15 and len(copies) >= 14
    kinds = {copy.split('-')[1] for copy in copies}
    assert kinds == {'rename', 'strip', 'reorder', 'respace', 'all', 'utf7', 'transplant'}
    styles = {source.split('-')[0] for source in copies.values()}
    assert styles == {'class', 'kit'}  # course-style and kit-style sources alike
    assert set(copies.values()) <= set(independent)


def test_few_independent_pairs_are_flagged(result):
    outcome, manifest = result
    independent = set(manifest['independent'])
    n = len(independent)
    flagged = [(p.a, p.b, p.similarity) for p in outcome.pairs
               if p.flagged and p.a in independent and p.b in independent]
    assert len(flagged) <= MAX_FLAGGED * n * (n - 1) / 2, flagged


def test_every_disguised_copy_is_flagged(result):
    outcome, manifest = result
    pairs = {frozenset((p.a, p.b)): p for p in outcome.pairs}
    missed = []
    for copy, source in manifest['copies'].items():
        pair = pairs.get(frozenset((copy, source)))
        if not (pair and pair.flagged):
            missed.append((copy, pair.similarity if pair else 0.0, pair.matched if pair else 0))
    assert not missed


def test_a_transplanted_file_is_named(result):
    outcome, manifest = result
    for copy, rel in manifest['files'].items():
        pair = next(p for p in outcome.pairs if {p.a, p.b} == {copy, manifest['copies'][copy]})
        side = 'a' if pair.a == copy else 'b'
        assert getattr(pair, f'{side}_file') == rel, pair
        assert getattr(pair, f'{side}_share') < 0.8  # the rest of it is its own
        files = {m.rel: m for m in similarity.pair_files(outcome, pair)[side]}
        assert files[rel].share >= 0.9 and files[rel].partners[0][0] == rel
