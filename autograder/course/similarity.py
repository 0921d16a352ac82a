"""Similarity check: rank the pairs of submissions whose own code is most alike.

    autograder similarity SUBMISSIONS_DIR [--out DIR] [--threshold X] [--top N]

Every zip or folder in SUBMISSIONS_DIR is read through intake (the same
allowlist as grading) and only its `.py` files are compared, with copydetect
(https://github.com/blingenf/copydetect), a MOSS-like winnowing detector:
code is tokenized with Pygments, names become placeholders (renaming
variables changes nothing), comments and whitespace are dropped, and the
k-gram fingerprints of two submissions are intersected.

The code every student receives (the `.py` files of student_version/) never
counts: each submitted file is aligned line by line with its stub and only
the stretches the student wrote are fingerprinted; inside them, tokens that
also lie in any k-gram of the stubs are masked. Two untouched stub packages
therefore share nothing, and the scaffold around each function a student
wrote does not make two students alike.

A submission is the union of its files' fingerprints, so code moved to
another file still matches. A pair's similarity is copydetect's, taken in
the more telling direction: the larger of the two shares of a submission's
own code that the other also contains (1.0: all of it).

Code built at run time (exec or eval of a decoded string: see
runtime_code.py) is flagged in the report, and where the decoding is a plain
chain over a literal, the hidden code is decoded (never run) and compared
like the rest.

Writes to DIR: index.html (ranked pairs, the matching regions of each flagged
pair side by side, code built at run time, every submission that could not
be compared and why), similarity.json (settings, submissions, ranked pairs)
and similarity.csv (every compared pair, ranked). Nothing a student sent is
executed.
"""
import argparse
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import html, paths
from ..grading import intake
from ..files import make_dir, write_text
from ..untrusted import name as shown
from .discover import discover
from .gradebook import write_csv
from .runtime_code import scan

NOISE_TOKENS = 25       # copydetect's noise threshold: shorter matches never count
GUARANTEE_TOKENS = 25   # matches this long are always found (window 1: every k-gram)
WINDOW = GUARANTEE_TOKENS - NOISE_TOKENS + 1
DEFAULT_THRESHOLD = 0.5
DEFAULT_TOP = 30
CONTEXT_LINES = 6       # unmatched lines kept around each highlighted region


class SimilarityError(Exception):
    """The check cannot run at all (missing dependency, stubs or folder)."""


@dataclass
class Entry:
    """One submission of the folder and what became of it.

    status: 'compared', 'unreadable' (intake refused it as a whole),
    'empty' (no .py file with any content), 'hidden' (a dot file, never
    read), or 'stub only' (nothing beyond the code every student receives;
    compared, but it cannot match anyone).
    """
    id: str
    path: str
    status: str = 'compared'
    files: list = field(default_factory=list)
    tokens: int = 0
    problems: list = field(default_factory=list)
    runtime_code: list = field(default_factory=list)  # 'file line N: exec'


@dataclass
class Pair:
    a: str
    b: str
    similarity: float
    a_share: float
    b_share: float
    tokens: int
    flagged: bool = False


@dataclass
class Result:
    """What `compare` found: entries by id, pairs ranked, documents for the report."""
    entries: list
    pairs: list
    threshold: float
    seconds: float = 0.0
    documents: dict = field(default_factory=dict, repr=False)
    problems: list = field(default_factory=list)  # what discover() found in the folder


_COPYDETECT = None


def _copydetect():
    """(CodeFingerprint, compare_files, highlight_overlap), imported once."""
    global _COPYDETECT
    if _COPYDETECT is None:
        try:
            import copydetect  # noqa: F401
        except ImportError:
            raise SimilarityError(
                "the similarity check needs copydetect: pip install 'copydetect>=0.5,<0.6'"
            ) from None
        if 'matplotlib.pyplot' not in sys.modules:
            import matplotlib
            matplotlib.use('Agg')  # copydetect imports pyplot; never open a window
        from copydetect import CodeFingerprint, compare_files
        from copydetect.utils import highlight_overlap
        _COPYDETECT = CodeFingerprint, compare_files, highlight_overlap
    return _COPYDETECT


def _fingerprint(name, text, window):
    CodeFingerprint, _, _ = _copydetect()
    return CodeFingerprint(name, NOISE_TOKENS, window, filter=True, language='python',
                           fp=io.StringIO(text))


class Boilerplate:
    """The code every student receives: the .py files of student_version/.

    Attributes:
        hashes: sorted int64 array of every k-gram hash of those files.
        lines: relative path -> the file's lines, stripped, for alignment.
    """

    def __init__(self, stub_dir=None):
        import numpy as np

        stub_dir = Path(stub_dir or paths.student_dir())
        hashes, self.lines = set(), {}
        for rel in paths.package_files(stub_dir) if stub_dir.is_dir() else ():
            if rel.suffix == '.py':
                text = (stub_dir / rel).read_text(encoding='utf-8', errors='replace')
                hashes |= _fingerprint(rel.as_posix(), text, 1).hashes
                self.lines[rel.as_posix()] = [line.strip() for line in text.split('\n')]
        if not hashes:
            raise SimilarityError(f"no student stubs (.py files) in {stub_dir}")
        self.hashes = np.array(sorted(hashes), dtype=np.int64)

    def line_mask(self, rel, lines):
        """For each line of a submitted file: True where it is the stub's own code.

        The file is aligned with the stub of the same path (difflib); code
        lines in the unchanged stretches are the scaffold around the student's
        code. Blank and comment lines hold no tokens and never separate two
        pieces of student code, so they are never masked.
        """
        import difflib

        stripped = [line.strip() for line in lines]
        mask = [False] * len(lines)
        stub = self.lines.get(rel)
        if stub:
            matcher = difflib.SequenceMatcher(None, stub, stripped, autojunk=False)
            for block in matcher.get_matching_blocks():
                for j in range(block.b, block.b + block.size):
                    mask[j] = bool(stripped[j]) and not stripped[j].startswith('#')
        return mask

    def inside(self, code):
        """Bool array over filtered code: the tokens inside any k-gram of the stubs."""
        import numpy as np
        from copydetect.utils import hashed_kgrams

        k, n = NOISE_TOKENS, len(code)
        covered = np.zeros(n, dtype=bool)
        if n < k:
            return covered
        kgrams = hashed_kgrams(code, k)
        where = np.clip(np.searchsorted(self.hashes, kgrams), 0, len(self.hashes) - 1)
        hits = np.flatnonzero(self.hashes[where] == kgrams)
        cover = np.zeros(n + 1, dtype=np.int64)
        np.add.at(cover, hits, 1)
        np.add.at(cover, hits + k, -1)
        return np.cumsum(cover)[:n] > 0


class Document:
    """A submission's .py files as one document that copydetect can compare.

    The scaffold every student receives is left out in two steps. Each file
    is aligned line by line with its stub, and only the stretches of lines
    the student wrote (hunks) are tokenized and fingerprinted, each on its
    own, by copydetect. Inside a hunk, tokens that lie in any k-gram of the
    stubs (scaffold code pasted elsewhere) are masked too; only k-grams made
    entirely of the remaining tokens are kept. Dropping just the stubs' own
    hashes, as copydetect's boilerplate option does, would keep every k-gram
    straddling a stub line and a student line, so two students would "share"
    the scaffolding around each function they wrote.

    `raw_code` is what the report shows: each file in full under a header
    line. `filtered_code` is the hunks' filtered tokens laid end to end with a
    separator (no match runs across two hunks); the hash indexes and offset
    table point from it into raw_code. These are the attributes of
    copydetect's CodeFingerprint that compare_files reads.
    """

    def __init__(self, files, boilerplate, window=WINDOW):
        import numpy as np
        from copydetect.utils import get_token_coverage

        k = self.k = NOISE_TOKENS
        self.hashes, self.hash_idx = set(), {}
        self.token_coverage = 0
        raw, filtered, offsets = [], [], []
        raw_len = filtered_len = 0
        for rel, text in sorted(files.items()):
            header = f"# ==== {rel} ====\n"
            raw_len += len(header)
            lines = text.split('\n')
            starts = np.cumsum([0] + [len(line) + 1 for line in lines])
            for first, last in _runs(boilerplate.line_mask(rel, lines)):
                hunk = '\n'.join(lines[first:last]) + '\n'
                fp = _fingerprint(rel, hunk, window)
                code = fp.filtered_code
                if len(code) < k:
                    continue
                inside = np.concatenate([[0], np.cumsum(boilerplate.inside(code))])
                clean = inside[k:] - inside[:-k] == 0  # k-grams free of scaffold tokens
                own = {}
                for h, idx in fp.hash_idx.items():
                    kept = [int(i) for i in idx if clean[i]]
                    if kept:
                        own[h] = kept
                if not own:
                    continue
                for h, idx in own.items():
                    self.hash_idx.setdefault(h, []).extend(i + filtered_len for i in idx)
                self.hashes.update(own)
                self.token_coverage += int(get_token_coverage(own, k, len(code)))
                shift = raw_len + int(starts[first]) - filtered_len
                table = _offset_table(fp.offsets)
                offsets.extend((f + filtered_len, o + shift) for f, o in table)
                offsets.append((filtered_len + len(code), (table[-1][1] if table else 0) + shift))
                filtered.append(code + '\n')
                filtered_len += len(code) + 1
            raw.append(header + (text if text.endswith('\n') else text + '\n'))
            raw_len += len(raw[-1]) - len(header)
        self.raw_code = ''.join(raw)
        self.filtered_code = ''.join(filtered)
        self.offsets = np.array(offsets, dtype=np.int64).reshape(-1, 2)
        # every kept k-gram occurrence as arrays, for fast pairwise scoring
        pairs = sorted((h, i) for h, idx in self.hash_idx.items() for i in idx)
        self.occurrence_hash = np.array([h for h, _ in pairs], dtype=np.int64)
        self.occurrence_index = np.array([i for _, i in pairs], dtype=np.int64)
        self.unique_hashes = np.unique(self.occurrence_hash)

    def covered(self, common):
        """Tokens of this document inside its k-grams whose hash is in `common`.

        The same count as copydetect's compare_files (the total length of the
        copied slices), computed on arrays.
        """
        import numpy as np

        where = np.clip(np.searchsorted(common, self.occurrence_hash), 0, len(common) - 1)
        starts = np.sort(self.occurrence_index[common[where] == self.occurrence_hash])
        if not starts.size:
            return 0
        return int(np.minimum(np.diff(starts), self.k).sum()) + self.k

    def raw_index(self, positions):
        """Indexes in raw_code of the tokens at `positions` of filtered_code."""
        import numpy as np

        positions = np.asarray(positions, dtype=np.int64)
        keys, values = self.offsets[:, 0], self.offsets[:, 1]
        return positions + values[np.clip(np.searchsorted(keys, positions), 0, len(keys) - 1)]

    def matches(self, other):
        """(2, n) start and end indexes in raw_code of the code `other` also has."""
        import numpy as np
        from copydetect.utils import find_fingerprint_overlap, get_copied_slices

        mine, _ = find_fingerprint_overlap(self.hashes, other.hashes, self.hash_idx,
                                           other.hash_idx)
        slices = get_copied_slices(mine, self.k).astype(np.int64)
        if not slices.shape[1]:
            return slices
        # an end is one past the last matched token, not the start of the next one
        return np.array([self.raw_index(slices[0]), self.raw_index(slices[1] - 1) + 1])


def _runs(mask):
    """(first, end) of each maximal run of False in mask."""
    runs, first = [], None
    for i, masked in enumerate(list(mask) + [True]):
        if not masked and first is None:
            first = i
        elif masked and first is not None:
            runs.append((first, i))
            first = None
    return runs


def _offset_table(offsets):
    """copydetect's (filtered index, removed so far) table, in increasing order.

    filter_code records text removed before the first token under index -1,
    after a leading (0, 0) row; drop both so that a binary search finds, for
    every token, the row that says how much was removed before it.
    """
    rows = [(int(f), int(o)) for f, o in offsets]
    if any(f < 0 for f, _ in rows):
        rows = [(f, o) for f, o in rows[1:] if f >= 0]
    return rows


def _decode(rel, data, entry):
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        entry.problems.append(f"{rel}: not UTF-8 text (undecodable bytes replaced)")
        return data.decode('utf-8', errors='replace')


def find_submissions(folder, exclude=()):
    """(label, discover.Entry) of every submission of `folder`, and the problems found.

    The label is the student id; when two submissions share one (alice.zip
    and alice/), each is labelled with its own file name.
    """
    entries, problems = discover(folder, exclude=exclude)
    counts = {}
    for e in entries:
        counts[e.id] = counts.get(e.id, 0) + 1
    found = [(shown(e.id if counts[e.id] == 1 else Path(e.submission).name), e)
             for e in entries if e.submission]
    return sorted(found, key=lambda item: item[0]), problems


def read_entry(sub_id, path, allowlist, boilerplate):
    """Read one submission: (Entry, Document or None). Never raises for bad input."""
    entry = Entry(sub_id, str(path))
    try:
        submission = intake.read_submission(path, allowlist)
    except intake.IntakeError as err:
        entry.status, entry.problems = 'unreadable', [str(err)]
        return entry, None
    except Exception as err:  # an archive no reader expected must not stop the run
        entry.status = 'unreadable'
        entry.problems = [f"cannot be read ({type(err).__name__}: {err})"]
        return entry, None
    entry.problems.extend(f"refused {item}" for item in submission.refused)
    files = {rel: _decode(rel, data, entry) for rel, data in submission.files.items()
             if rel.endswith('.py')}
    files = {rel: text for rel, text in files.items() if text.strip()}
    entry.files = sorted(files)
    for rel, text in list(files.items()):
        finding = scan(text)
        entry.runtime_code += [f"{rel} {use}" for use in finding.uses]
        for number, hidden in enumerate(finding.revealed, 1):
            files[f"{rel}#decoded-{number}"] = hidden  # compared like the rest
    if not files:
        entry.status = 'empty'
        entry.problems.append("no .py file with any content")
        return entry, None
    try:
        document = Document(files, boilerplate)
    except Exception as err:  # a file the tokenizer chokes on must not stop the run
        entry.status = 'unreadable'
        entry.problems.append(f"cannot be tokenized ({type(err).__name__}: {err})")
        return entry, None
    entry.tokens = int(document.token_coverage)
    if not entry.tokens:
        entry.status = 'stub only'
        entry.problems.append("no code beyond the stubs every student receives")
    return entry, document


def score_pair(a, b, da, db, threshold):
    """The Pair of submissions a and b (copydetect's similarity, both directions)."""
    import numpy as np

    common = np.intersect1d(da.unique_hashes, db.unique_hashes, assume_unique=True)
    tokens_a, tokens_b = (da.covered(common), db.covered(common)) if common.size else (0, 0)
    share_a = tokens_a / da.token_coverage if da.token_coverage else 0.0
    share_b = tokens_b / db.token_coverage if db.token_coverage else 0.0
    similarity = max(share_a, share_b)
    return Pair(a, b, round(similarity, 4), round(share_a, 4), round(share_b, 4),
                max(tokens_a, tokens_b), bool(common.size) and similarity >= threshold)


def compare(folder, threshold=DEFAULT_THRESHOLD, stub_dir=None, allowlist=None,
            exclude=(), progress=None):
    """Read every submission of `folder` and compare every pair.

    Args:
        folder: the folder of submissions (zips or package folders).
        threshold: similarity from which a pair is flagged.
        stub_dir: the student package every student receives (default
            student_version/); its .py files are the boilerplate.
        allowlist: intake.Allowlist (default student_version/submission_files.txt).
        exclude: paths inside `folder` that are not submissions (the output folder).
        progress: called with a line of text as the work advances.

    Returns:
        Result, pairs ranked by similarity (then matched tokens, then ids).
    """
    start = time.monotonic()
    _copydetect()
    stub_dir = Path(stub_dir or paths.student_dir())
    if allowlist is None:
        listing = stub_dir / paths.SUBMISSION_FILES
        if not listing.is_file():
            raise SimilarityError(f"{listing} not found: it lists the submitted files")
        allowlist = intake.Allowlist.read(listing)
    boilerplate = Boilerplate(stub_dir)
    entries, documents = [], {}
    found_all, problems = find_submissions(folder, exclude)
    for sub_id, found in found_all:
        entry, document = read_entry(sub_id, Path(found.submission), allowlist, boilerplate)
        entries.append(entry)
        if document is not None:
            documents[sub_id] = document
    if progress:
        progress(f"read {len(entries)} submissions; comparing {len(documents)}")
    ids = sorted(documents)
    pairs = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            pairs.append(score_pair(a, b, documents[a], documents[b], threshold))
        if progress and (i + 1) % 50 == 0:
            progress(f"compared {i + 1} of {len(ids)} submissions with the rest")
    pairs.sort(key=lambda p: (-p.similarity, -p.tokens, p.a, p.b))
    return Result(entries, pairs, threshold, time.monotonic() - start, documents, problems)


# ---------------------------------------------------------------------------
# Reports

def _side_by_side(result, pair):
    """The two submissions' code, as highlighted HTML (escaped by copydetect)."""
    _, _, highlight_overlap = _copydetect()
    import html as stdlib_html
    da, db = result.documents[pair.a], result.documents[pair.b]
    columns = []
    for sub_id, doc, other, css, share in ((pair.a, da, db, 'hl-a', pair.a_share),
                                           (pair.b, db, da, 'hl-b', pair.b_share)):
        slices = doc.matches(other)
        if slices.shape[1]:
            code, _ = highlight_overlap(doc.raw_code, slices, f"<mark class='{css}'>",
                                        "</mark>", truncate=CONTEXT_LINES, escape_html=True)
        else:
            code = stdlib_html.escape(doc.raw_code)
        columns.append({'id': sub_id, 'share': share, 'code': code})
    return columns


def render_html(result, top=DEFAULT_TOP, folder=''):
    """The report page (templates/similarity.html)."""
    from markupsafe import Markup
    entries = result.entries
    flagged = [p for p in result.pairs if p.flagged]
    shown_pairs = flagged[:top] if top else flagged
    listed = [p for p in result.pairs[:max(top or len(flagged), len(shown_pairs))] if p.tokens]
    side = []
    for rank, pair in enumerate(shown_pairs, 1):
        columns = _side_by_side(result, pair)
        for column in columns:
            column['code'] = Markup(column['code'])  # copydetect escaped it
        side.append({'rank': rank, 'pair': pair, 'columns': columns})
    ranks = {id(p): i for i, p in enumerate(shown_pairs, 1)}
    return html.render(
        'similarity.html', title='Similarity report', folder=shown(folder), entries=entries,
        compared=[e for e in entries if e.status == 'compared'],
        stub_only=[e for e in entries if e.status == 'stub only'],
        not_compared=[e for e in entries if e.status in ('unreadable', 'empty')],
        runtime=[e for e in entries if e.runtime_code], pairs=result.pairs, flagged=flagged,
        listed=[(i, p, ranks.get(id(p))) for i, p in enumerate(listed, 1)], side=side,
        threshold=result.threshold, noise=NOISE_TOKENS, context=CONTEXT_LINES,
        problems=result.problems)


def write_report(result, out_dir, top=DEFAULT_TOP, folder=''):
    """Write index.html, similarity.json and similarity.csv; return their paths."""
    out_dir = make_dir(out_dir)
    flagged = sum(p.flagged for p in result.pairs)
    document = {
        'settings': {'threshold': result.threshold, 'top': top,
                     'noise_tokens': NOISE_TOKENS, 'guarantee_tokens': GUARANTEE_TOKENS,
                     'tool': _tool_version(), 'folder': shown(folder)},
        'submissions': [{'id': e.id, 'path': shown(e.path), 'status': e.status,
                         'files': e.files, 'tokens': e.tokens, 'problems': e.problems,
                         'runtime_code': e.runtime_code} for e in result.entries],
        'problems': result.problems,
        'flagged': flagged,
        'pair_count': len(result.pairs),
        # every flagged pair, and at least the `top` best-ranked ones
        'pairs': [dict(rank=i, **vars(p)) for i, p in
                  enumerate(result.pairs[:max(flagged, top or flagged)], 1)],
    }
    written = {'html': out_dir / 'index.html', 'json': out_dir / 'similarity.json',
               'csv': out_dir / 'similarity.csv'}
    write_text(written['json'], json.dumps(document, indent=2) + '\n')
    header = ['rank', 'a', 'b', 'similarity', 'a_share', 'b_share', 'tokens', 'flagged']
    write_csv(written['csv'], header,
              [dict(zip(header, [i, p.a, p.b, p.similarity, p.a_share, p.b_share, p.tokens,
                                 int(p.flagged)])) for i, p in enumerate(result.pairs, 1)])
    write_text(written['html'], render_html(result, top, folder))
    return written


def _tool_version():
    try:
        from importlib.metadata import version
        return f"copydetect {version('copydetect')}"
    except Exception:
        return 'copydetect'


# ---------------------------------------------------------------------------
# Command line

def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 1")
    return value


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def add_arguments(parser):
    """The `similarity` subcommand's arguments (cli.py makes the parser)."""
    parser.add_argument('submissions', metavar='SUBMISSIONS_DIR',
                        help="folder holding one zip or folder per student")
    parser.add_argument('--out', metavar='DIR', required=True, help="output folder")
    parser.add_argument('--threshold', type=_fraction, default=DEFAULT_THRESHOLD, metavar='X',
                        help=f"flag pairs whose similarity is at least X, in [0, 1] "
                             f"(default {DEFAULT_THRESHOLD})")
    parser.add_argument('--top', type=_count, default=DEFAULT_TOP, metavar='N',
                        help=f"show at most N pairs in the report, the flagged ones side by "
                             f"side; 0 shows every flagged pair (default {DEFAULT_TOP})")


def run(args):
    """Run the check for parsed arguments; return the exit code."""
    folder = Path(args.submissions)
    if not folder.is_dir():
        print(f"autograder similarity: {folder} is not a folder", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"autograder similarity: --out {out} exists and is not a folder",
              file=sys.stderr)
        return 2
    progress = None
    if not args.quiet and sys.stderr.isatty():
        def progress(line):
            print(f"  {line}", file=sys.stderr)
    try:
        result = compare(folder, threshold=args.threshold, exclude=[out], progress=progress)
        written = write_report(result, out, top=args.top, folder=folder)
    except SimilarityError as err:
        print(f"autograder similarity: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"autograder similarity: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        flagged = [p for p in result.pairs if p.flagged]
        problems = [e for e in result.entries if e.status != 'compared']
        print(f"{len(result.entries)} submissions, {len(result.pairs)} pairs compared in "
              f"{result.seconds:.1f} s; {len(flagged)} at or above {args.threshold:g}")
        for p in flagged[:10]:
            print(f"  {p.similarity:6.1%}  {p.a}  {p.b}")
        if len(flagged) > 10:
            print(f"  ... {len(flagged) - 10} more in {written['csv']}")
        for e in problems:
            print(f"  not compared: {e.id} ({e.status}: {shown('; '.join(e.problems), 300)})")
        for e in result.entries:
            if e.runtime_code:
                uses = shown(', '.join(e.runtime_code), 200)
                print(f"  builds code at run time: {e.id} ({uses})")
        print(f"report: {written['html']}")
    return 0
