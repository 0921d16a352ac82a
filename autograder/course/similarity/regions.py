"""Where two submissions match: per-file shares and the matching regions of the text."""
from dataclasses import dataclass, field

import numpy as np

from . import fingerprints

CONTEXT_LINES = 4  # unmatched lines shown around a match; longer stretches are cut


@dataclass
class FileMatch:
    """One file of a submission against the other submission.

    own: own k-grams of the file; matched: how many the other holds; share =
    matched / own. partners: [(file of the other, k-grams of this file it
    holds)], largest first: which of the other's files carry the match.
    segments: [(text, marked)] of the whole file, unmatched stretches far
    from any match cut to '...'.
    """
    rel: str
    own: int
    matched: int
    share: float
    partners: list = field(default_factory=list)
    segments: list = field(default_factory=list)


def _own_set(document):
    parts = [f.own_hashes() for f in document.files]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)


def _spans(code_file, hit, k):
    """[(start, end)] character ranges of the tokens inside the matched k-grams."""
    positions = np.flatnonzero(code_file.own)[hit]
    covered = fingerprints.covered_tokens(positions, len(code_file), k)
    spans, index = [], np.flatnonzero(covered)
    if not len(index):
        return spans
    breaks = np.flatnonzero(np.diff(index) > 1)
    firsts = np.r_[index[0], index[breaks + 1]]
    lasts = np.r_[index[breaks], index[-1]]
    for first, last in zip(firsts, lasts):
        spans.append((int(code_file.starts[first]), int(code_file.ends[last])))
    return spans


def _segments(text, spans, context=CONTEXT_LINES):
    """[(text, marked)] of `text`, marked where `spans` say, far unmatched lines cut.

    An unmatched stretch keeps `context` lines after the match before it and
    before the match after it; the lines between become one '... (N lines)'.
    """
    pieces, at = [], 0
    for start, end in spans:
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text):
        pieces.append((text[at:], False))
    out = []
    for number, (piece, marked) in enumerate(pieces):
        lines = piece.split('\n')
        # lines[0] ends the previous match's line, lines[-1] starts the next match's
        head = context + 1 if number else 0
        tail = context + 1 if number + 1 < len(pieces) else 0
        if marked or len(lines) <= head + tail + 1:
            out.append((piece, marked))
            continue
        kept_head = '\n'.join(lines[:head]) + '\n' if head else ''
        kept_tail = '\n'.join(lines[len(lines) - tail:]) if tail else ''
        out.append((f"{kept_head}... ({len(lines) - head - tail} lines)\n{kept_tail}", False))
    return out


def compare_files(document, other, k, with_text=True):
    """FileMatch of each of `document`'s files against `other` (files with own code only)."""
    other_all = _own_set(other)
    other_files = [(f.rel, np.unique(f.own_hashes())) for f in other.files]
    matches = []
    for code_file in document.files:
        hashes = code_file.own_hashes()
        if not len(hashes):
            continue
        hit = fingerprints.member(hashes, other_all)
        partners = []
        for rel, own in other_files:
            count = int(fingerprints.member(hashes, own).sum())
            if count:
                partners.append((rel, count))
        partners.sort(key=lambda item: (-item[1], item[0]))
        match = FileMatch(code_file.rel, len(hashes), int(hit.sum()),
                          float(hit.sum()) / len(hashes), partners)
        if with_text:
            match.segments = _segments(code_file.text, _spans(code_file, hit, k)) \
                if hit.any() else []
        matches.append(match)
    return matches
