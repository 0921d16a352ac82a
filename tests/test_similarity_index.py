"""The index: own k-grams, common passages, shares, archives; checked against a slow reference."""
import random

import numpy as np
import pytest

from autograder.course.similarity import fingerprints
from autograder.course.similarity.document import Document
from autograder.course.similarity.index import Settings, mark_own, score
from autograder.course.similarity.scaffold import Scaffold

SETTINGS = Settings(k=5, scaffold_k=6, common_fraction=0.5, verbatim_fraction=0.5,
                    common_min=3, file_min=6, match_min=1)


@pytest.fixture(scope='module')
def scaffold(tmp_path_factory):
    folder = tmp_path_factory.mktemp('scaffold')
    (folder / 'given.py').write_text("def load_things(path):\n"
                                     "    with open(path) as handle:\n"
                                     "        return handle.read().split(',')\n")
    return Scaffold([folder], SETTINGS.scaffold_k, SETTINGS.k)


def lines(rng, count):
    """Random, valid, distinctive Python: a submission of someone's own.

    The attribute names are used, never bound, so normalisation keeps them
    and two random submissions share (almost) no k-gram.
    """
    def attribute():
        return f"{rng.choice(WORDS)}.{rng.choice(WORDS)}_{rng.randrange(1000)}"

    out = [f"{name} = {number}" for number, name in enumerate(WORDS)]
    for _ in range(count):
        out.append(f"{rng.choice(WORDS)} = {attribute()}({attribute()}, {attribute()}) + "
                   f"{attribute()}")
    return '\n'.join(out) + '\n'


WORDS = ['scale', 'shift', 'clip', 'stack', 'merge', 'split', 'fold', 'spin', 'norm', 'flip']


def build(texts_by_doc, scaffold, archive=()):
    documents = [Document.build(doc_id, texts, SETTINGS.k, scaffold, doc_id in archive)
                 for doc_id, texts in texts_by_doc.items()]
    common, _ = mark_own(documents, SETTINGS)
    return documents, common


def slow_counts(documents):
    """(matched, weighted): [a][b] = own k-grams of a (with multiplicity) whose hash b holds,
    counted, and weighted by 1 / the number of documents holding the k-gram; Python sets."""
    own = [[h for f in d.files for h in f.own_hashes().tolist()] for d in documents]
    sets = [set(o) for o in own]
    held = [set(h for f in d.files for h in f.hashes.tolist()) for d in documents]
    df = {}
    for hashes in held:
        for h in hashes:
            df[h] = df.get(h, 0) + 1
    n = len(documents)
    skip = [[a == b or (documents[a].archive and documents[b].archive) for b in range(n)]
            for a in range(n)]
    matched = [[0 if skip[a][b] else sum(h in sets[b] for h in own[a]) for b in range(n)]
               for a in range(n)]
    weighted = [[0.0 if skip[a][b] else sum(1 / df[h] for h in own[a] if h in sets[b])
                 for b in range(n)] for a in range(n)]
    return matched, weighted


@pytest.mark.parametrize('chunk', [7, 4_000_000])
def test_counts_match_a_slow_reference(scaffold, chunk):
    rng = random.Random(3)
    base = [lines(rng, 30) for _ in range(6)]
    texts = {f"s{i}": {'a.py': base[i], 'b.py': lines(rng, 10)} for i in range(6)}
    texts['copy'] = {'a.py': base[0], 'b.py': base[1][:200]}
    texts['arch1'] = {'x.py': base[2]}
    texts['arch2'] = {'x.py': base[2]}  # archive with archive: never counted
    documents, _ = build(texts, scaffold, archive={'arch1', 'arch2'})
    scores = score(documents, SETTINGS, chunk=chunk)
    matched, weighted = slow_counts(documents)
    assert scores.matched.tolist() == matched
    assert np.allclose(scores.counts, weighted, rtol=1e-5)
    ids = [d.id for d in documents]
    a1, a2 = ids.index('arch1'), ids.index('arch2')
    assert scores.counts[a1, a2] == scores.counts[a2, a1] == 0
    assert scores.matched[ids.index('s2'), a1] > 0  # the class against the archive


def test_scaffold_and_common_passages_are_not_own(scaffold):
    rng = random.Random(5)
    given = "def load_things(path):\n    with open(path) as handle:\n" \
            "        return handle.read().split(',')\n"
    idiom = "stable = values - values.max(axis=1, keepdims=True)\n" \
            "out = np.exp(stable) / np.exp(stable).sum(axis=1, keepdims=True)\n"
    texts = {f"s{i}": {'m.py': given + lines(rng, 20) + (idiom if i < 4 else '')}
             for i in range(6)}
    documents, common = build(texts, scaffold)
    for d in documents:
        f = d.files[0]
        n_given = len(Document.build('g', {'g.py': given}, SETTINGS.k, scaffold).files[0])
        assert f.masked[:n_given].all(), "the given function is scaffold"
    # the idiom is in 4 of 6 submissions: at least common_count(6) = 3, so common
    assert SETTINGS.common_count(6) == 3 and len(common)
    idiom_doc = Document.build('i', {'i.py': idiom}, SETTINGS.k, scaffold).files[0]
    assert fingerprints.member(idiom_doc.hashes, common).all()
    scores = score(documents, SETTINGS)
    assert scores.matched[0, 1] == 0  # what s0 and s1 share is scaffold or common


def test_one_copied_file_shows_in_the_file_share(scaffold):
    rng = random.Random(9)
    mine = {'a.py': lines(rng, 40), 'b.py': lines(rng, 40), 'c.py': lines(rng, 12)}
    theirs = {'a.py': lines(rng, 40), 'b.py': lines(rng, 40), 'c.py': lines(rng, 12)}
    mixed = dict(mine, c=None)
    mixed.pop('c')
    mixed['c.py'] = theirs['c.py']  # one small file taken from the other
    texts = {'mine': mine, 'theirs': theirs, 'mixed': mixed, 'other': {'a.py': lines(rng, 50)}}
    documents, _ = build(texts, scaffold)
    scores = score(documents, SETTINGS)
    ids = [d.id for d in documents]
    t, m = ids.index('theirs'), ids.index('mixed')
    share = scores.share()
    assert share[m, t] < 0.3 and share[t, m] < 0.3  # the whole submissions differ
    assert scores.file_best[m, t] == 1.0  # one file of `mixed` is all in `theirs`
    assert documents[m].files[scores.file_arg[m, t]].rel == 'c.py'


def test_empty_documents_and_tiny_files():
    documents = [Document('a', [], False), Document('b', [], False)]
    for d in documents:
        d.files = []
    scaffold = Scaffold([], 4, 5)
    docs = [Document.build(name, {'x.py': 'x = 1\n'}, 5, scaffold) for name in 'ab']
    mark_own(docs, SETTINGS)
    scores = score(docs, SETTINGS)
    assert scores.matched.tolist() == [[0, 0], [0, 0]] and scores.own.tolist() == [0, 0]
    assert np.all(scores.share() == 0)
