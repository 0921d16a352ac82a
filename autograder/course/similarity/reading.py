"""Submissions folder to decoded .py texts, through the grader's own intake.

Every zip or folder is read by intake.read_submission with the allowlist the
grader uses (student_version/submission_files.txt: its size limits, its
refusal of links and strange names); only the allowed `.py` files are kept,
decoded as Python would (source.decode). Code a file builds at run time from
a decodable literal (runtime_code.scan) is added as a file of its own,
`rel#decoded-N`, and compared like the rest. Nothing is executed.
"""
from dataclasses import dataclass, field
from pathlib import Path

from ...grading import intake
from ...untrusted import name as shown
from ..discover import discover
from ..runtime_code import scan
from .source import decode
from .syntax import nodes


@dataclass
class Entry:
    """One submission (or archive entry) and what became of it.

    status: 'compared'; 'unreadable' (intake refused it as a whole); 'empty'
    (no .py file with any content); 'nothing own' (compared, but every
    passage is scaffold or common to the class, so it cannot match anyone).
    """
    id: str
    path: str
    archive: str = ''  # the --against folder it came from, '' for this class
    status: str = 'compared'
    files: list = field(default_factory=list)
    tokens: int = 0    # own k-grams (set by the index)
    problems: list = field(default_factory=list)
    runtime_code: list = field(default_factory=list)  # 'file line N: exec'


def find_submissions(folder, exclude=()):
    """(label, path) of every submission of `folder`, sorted, and the problems found.

    The label is the student id; when two submissions share one (alice.zip
    and alice/), each is labelled with its own file name.
    """
    entries, problems = discover(folder, exclude=exclude)
    counts = {}
    for e in entries:
        counts[e.id] = counts.get(e.id, 0) + 1
    found = [(shown(e.id if counts[e.id] == 1 else Path(e.submission).name), e.submission)
             for e in entries if e.submission]
    return sorted(found), problems


def read_entry(sub_id, path, allowlist, archive=''):
    """(Entry, {rel: text} or None, {rel: syntax.nodes} or None) of one submission.

    Never raises for bad input. The syntax trees (None for a file that does
    not parse) are handed on so that no file is parsed twice.
    """
    entry = Entry(sub_id, shown(str(path), 300), archive)
    try:
        submission = intake.read_submission(path, allowlist)
    except intake.IntakeError as err:
        entry.status, entry.problems = 'unreadable', [str(err)]
        return entry, None, None
    except Exception as err:  # an archive no reader expected must not stop the run
        entry.status = 'unreadable'
        entry.problems = [f"cannot be read ({type(err).__name__})"]
        return entry, None, None
    entry.problems.extend(f"refused {item}" for item in submission.refused)
    texts = {}
    for rel, data in sorted(submission.files.items()):
        if not rel.endswith('.py'):
            continue
        source = decode(data)
        if source.problem:
            entry.problems.append(f"{rel}: {source.problem}")
        elif source.encoding not in ('utf-8', 'utf-8-sig', 'ascii'):
            entry.problems.append(f"{rel}: written in {source.encoding} (decoded as Python "
                                  f"does before comparing)")
        if source.text.strip():
            texts[rel] = source.text
    entry.files = sorted(texts)
    trees = {}
    for rel, text in list(texts.items()):
        trees[rel] = nodes(text)
        finding = scan(text, trees[rel] or [])
        entry.runtime_code += [f"{rel} {use}" for use in finding.uses]
        for number, hidden in enumerate(finding.revealed, 1):
            texts[f"{rel}#decoded-{number}"] = hidden
    if not texts:
        entry.status = 'empty'
        entry.problems.append("no .py file with any content")
        return entry, None, None
    return entry, texts, trees
