"""Read a class (and archives), build the index, rank the pairs."""
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ... import paths
from ...grading import intake
from ...untrusted import name as shown
from .document import Document
from .index import Settings, mark_own, score
from .reading import find_submissions, read_entry
from .scaffold import Scaffold

DEFAULT_THRESHOLD = 0.5
LIST_FLOOR = 0.05  # pairs below this similarity are counted, never listed (unless flagged)


class SimilarityError(Exception):
    """The check cannot run at all (a missing folder, no stubs); the message says why."""


@dataclass
class Pair:
    """Two submissions compared; b is the archive entry when one of them is.

    similarity: the larger of a_share and b_share, or the smaller of
        a_file_share and b_file_share if that is larger (one file copied:
        each side's best file is mostly in the other).
    a_share: the weighted share of a's own k-grams that b also holds (index.py).
    a_file, a_file_share: a's file with the largest share (of files with at
        least Settings.file_min own k-grams), '' if none.
    matched: own k-grams found in the other, the larger of the two directions.
    evidence: the same, each k-gram weighted as in the shares.
    """
    a: str
    b: str
    similarity: float
    a_share: float
    b_share: float
    a_file: str
    a_file_share: float
    b_file: str
    b_file_share: float
    matched: int
    evidence: float = 0.0
    flagged: bool = False
    archive: str = ''  # the --against folder of b, '' for a pair within the class


@dataclass
class Result:
    """What `compare` found: entries by id, pairs ranked, documents for the report."""
    entries: list
    pairs: list                 # every pair flagged or at LIST_FLOOR or above, ranked
    pair_count: int             # every pair compared (those with nothing in common too)
    threshold: float
    settings: Settings
    seconds: float = 0.0
    documents: dict = field(default_factory=dict, repr=False)
    problems: list = field(default_factory=list)  # what discover() found in the folders
    common: int = 0             # distinct k-grams treated as common to the class
    common_count: int = 0       # the number of submissions that makes a k-gram common
    scaffold: list = field(default_factory=list)  # (folder, .py files) left out


def _allowlist(stub_dir):
    listing = Path(stub_dir) / paths.SUBMISSION_FILES
    if not listing.is_file():
        raise SimilarityError(f"{listing} not found: it lists the submitted files")
    return intake.Allowlist.read(listing)


def _archive_labels(archives):
    """A short, distinct label per archive folder (its name; a number when two share one)."""
    labels, seen = [], {}
    for folder in archives:
        label = shown(Path(folder).resolve().name or 'archive', 60)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label}~{seen[label]}")
    return labels


def compare(folder, threshold=DEFAULT_THRESHOLD, scaffolds=(), archives=(), stub_dir=None,
            allowlist=None, exclude=(), settings=None, progress=None):
    """Read every submission of `folder` (and of each archive) and compare the pairs.

    Args:
        folder: the folder of submissions (zips or package folders).
        threshold: the similarity from which a pair is flagged, in [0, 1].
        scaffolds: more folders of code every student received (--scaffold).
        archives: folders of earlier terms' submissions and public solutions
            (--against), compared with this class, never with each other.
        stub_dir: the student package (default student_version/); its .py
            files are scaffold and its submission_files.txt the allowlist.
        exclude: paths inside the folders that are not submissions (the output).
        settings: index.Settings (the calibrated defaults unless given).
        progress: called with a line of text as the work advances.

    Returns:
        Result, pairs ranked by similarity (then matched k-grams, then ids).
    """
    start = time.monotonic()
    settings = settings or Settings()
    say = progress or (lambda line: None)
    stub_dir = Path(stub_dir or paths.student_dir())
    allowlist = allowlist or _allowlist(stub_dir)
    for extra in (*scaffolds, *archives):
        if not Path(extra).is_dir():
            raise SimilarityError(f"{shown(extra)}: not a folder")
    scaffold = Scaffold([stub_dir, *scaffolds], settings.scaffold_k, settings.k,
                        settings.literals)
    if not len(scaffold.hashes):
        raise SimilarityError(f"no student stubs (.py files) in {shown(stub_dir)}")
    sources = [(Path(folder), '')] + list(zip(map(Path, archives), _archive_labels(archives)))
    entries, documents, problems = [], [], []
    for where, label in sources:
        try:
            found, found_problems = find_submissions(where, exclude)
        except Exception as err:  # discover's BatchError: unreadable folder
            raise SimilarityError(str(err)) from None
        problems += [f"{label}: {p}" if label else p for p in found_problems]
        for number, (sub_id, path) in enumerate(found, 1):
            entry_id = f"{label}/{sub_id}" if label else sub_id
            entry, texts, trees = read_entry(entry_id, path, allowlist, label)
            entries.append(entry)
            if texts is not None:
                try:
                    document = Document.build(entry_id, texts, settings.k, scaffold,
                                              archive=bool(label), literals=settings.literals,
                                              trees=trees)
                except Exception as err:  # no submission may stop the run, whatever it holds
                    entry.status = 'unreadable'
                    entry.problems.append(f"cannot be tokenized ({type(err).__name__})")
                    continue
                entry.problems += document.problems
                documents.append(document)
            if number % 50 == 0:
                say(f"read {number} of {len(found)} submissions in {shown(where)}")
    say(f"read {len(entries)} submissions; comparing {len(documents)}")
    common, common_count = mark_own(documents, settings)
    scores = score(documents, settings)
    by_id = {e.id: e for e in entries}
    for d, document in enumerate(documents):
        entry = by_id[document.id]
        entry.tokens = int(scores.own_kgrams[d])
        if not entry.tokens:
            entry.status = 'nothing own'
            entry.problems.append("no code of its own: everything is scaffold or common to "
                                  "the class")
    pairs, pair_count = _pairs(documents, scores, settings, threshold)
    say(f"compared {pair_count} pairs; {sum(p.flagged for p in pairs)} flagged")
    return Result(entries, pairs, pair_count, threshold, settings, time.monotonic() - start,
                  {d.id: d for d in documents}, problems, len(common), common_count,
                  scaffold.sources)


def _pairs(documents, scores, settings, threshold):
    """(Pair list ranked, number of pairs compared)."""
    n = len(documents)
    archive = np.array([d.archive for d in documents], dtype=bool)
    a_idx, b_idx = np.triu_indices(n, 1)
    keep = ~(archive[a_idx] & archive[b_idx])
    a_idx, b_idx = a_idx[keep], b_idx[keep]
    swap = archive[a_idx]  # the archive entry is always b
    a_idx, b_idx = np.where(swap, b_idx, a_idx), np.where(swap, a_idx, b_idx)
    share = scores.share()
    values = np.stack([share[a_idx, b_idx], share[b_idx, a_idx],
                       scores.file_best[a_idx, b_idx], scores.file_best[b_idx, a_idx]])
    # a whole submission held by the other counts; one file only when the two files
    # hold each other (one file copied), not when a small file is all idiom
    similarity = np.maximum(values[:2].max(axis=0), values[2:].min(axis=0))
    matched = np.maximum(scores.matched[a_idx, b_idx], scores.matched[b_idx, a_idx])
    evidence = np.maximum(scores.counts[a_idx, b_idx], scores.counts[b_idx, a_idx])
    flagged = (similarity >= threshold) & (matched >= settings.match_min)
    pairs = []
    listed = np.flatnonzero((similarity >= LIST_FLOOR) | flagged)
    for i in listed:
        a, b = documents[a_idx[i]], documents[b_idx[i]]
        fa, fb = scores.file_arg[a_idx[i], b_idx[i]], scores.file_arg[b_idx[i], a_idx[i]]
        pairs.append(Pair(
            a.id, b.id, round(float(similarity[i]), 4), round(float(values[0, i]), 4),
            round(float(values[1, i]), 4), a.files[fa].rel if fa >= 0 else '',
            round(float(values[2, i]), 4), b.files[fb].rel if fb >= 0 else '',
            round(float(values[3, i]), 4), int(matched[i]), round(float(evidence[i]), 2),
            bool(flagged[i]),
            b.id.split('/', 1)[0] if b.archive else ''))
    pairs.sort(key=lambda p: (-p.flagged, -p.similarity, -p.matched, p.a, p.b))
    return pairs, len(a_idx)
