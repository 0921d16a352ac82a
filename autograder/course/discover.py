"""Which submissions a folder holds, whose they are, and where each one's results go.

Every zip file and every folder in the submissions folder is a submission;
its student id is the name without '.zip', or the roster's student whose
'submission' column names it. Anything else is listed, never graded and
never mistaken for a student: stray files (carol.txt beside carol.zip),
hidden files, symbolic links, the batch's own output folder.

File names are untrusted: any bytes, any length. Each student's results
folder name is made unique by construction (a name that is not plain
letters, digits and . _ - gets a hash of the exact name appended) and
checked again before use.
"""
import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..untrusted import name as shown

# submitted_at: the time the platform recorded (ISO 8601), for late work.
ROSTER_COLUMNS = {'student_id', 'last_name', 'first_name', 'email', 'submission',
                  'submitted_at'}
_SAFE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._@+-]{0,79}$')


class BatchError(ValueError):
    """The batch cannot start (bad folder, bad roster); the message says why."""


@dataclass
class Entry:
    """One student's submission in the batch (JSON-ready: batch.json stores these)."""
    id: str
    submission: str
    folder: str = ''
    status: str = 'pending'
    score: object = None
    max_score: object = None
    seconds: object = None
    reason: object = None
    timestamp: str = ''
    duedate: str = ''
    time_source: str = ''    # where timestamp came from (late.FROM_*), never the submission
    digest: str = ''
    late_penalty: object = None


def _hash(text):
    return hashlib.sha256(os.fsencode(text)).hexdigest()


def folder_names(ids):
    """A unique, filesystem-safe folder name for each id, in order.

    Plain ids are their own name; any other gets its safe characters and 12
    hex digits of the SHA-256 of its exact bytes. Should two names still
    meet (a crafted file name), every name of the group gets the full hash.
    """
    names = []
    for sid in ids:
        if _SAFE.match(sid) and sid not in ('.', '..'):
            names.append(sid)
        else:
            base = re.sub(r'[^A-Za-z0-9._@+-]', '_', sid)[:60].strip('.') or 'student'
            names.append(f'{base}-{_hash(sid)[:12]}')
    seen = {}
    for index, name in enumerate(names):
        seen.setdefault(name, []).append(index)
    for indexes in seen.values():
        if len(indexes) > 1:
            for index in indexes:
                names[index] = f'{names[index]}-{_hash(ids[index])}'
    if len(set(names)) != len(names):  # distinct ids give distinct full hashes
        raise BatchError("two students' results folders would coincide")
    return names


def read_roster(path):
    """Roster rows by student id; 'submission' maps to a file or folder name."""
    try:
        with open(path, newline='', encoding='utf-8-sig') as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise BatchError(f"cannot read the roster {path}: {err}") from None
    if not rows or 'student_id' not in rows[0]:
        raise BatchError(f"{path}: a roster needs a 'student_id' column "
                         f"(optional: {', '.join(sorted(ROSTER_COLUMNS - {'student_id'}))})")
    unknown = set(rows[0]) - ROSTER_COLUMNS
    if unknown:
        raise BatchError(f"{path}: unknown column(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"valid: {', '.join(sorted(ROSTER_COLUMNS))}")
    roster = {}
    for number, row in enumerate(rows, 2):
        sid = (row.get('student_id') or '').strip()
        if not sid:
            raise BatchError(f"{path}:{number}: a row without a student_id")
        if sid in roster:
            raise BatchError(f"{path}:{number}: student {sid} appears twice")
        roster[sid] = row
    return roster


def discover(folder, roster=None, exclude=()):
    """The entries to grade and the problems found on the way.

    Args:
        folder: the submissions folder.
        roster: read_roster()'s result, or None.
        exclude: paths never taken for submissions (the batch's output folder).

    Returns:
        (entries, problems): entries in name order, each with a unique
        folder; problems as printable lines.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BatchError(f"{shown(folder)}: not a folder of submissions")
    excluded = set()
    for path in exclude:
        try:
            excluded.add(Path(path).resolve())
        except OSError:
            pass
    by_name = {}
    for sid, row in (roster or {}).items():
        if row.get('submission'):
            by_name[row['submission'].strip()] = sid
    entries, problems, seen = [], [], {}
    try:
        names = sorted(os.listdir(folder))
    except OSError as err:
        raise BatchError(f"{shown(folder)}: cannot list it ({err.strerror})") from None
    for raw in names:
        path = folder / raw
        label = shown(raw)
        if label != raw:
            problems.append(f"{label}: the file name is not plain UTF-8 text (shown escaped)")
        if raw.startswith('.'):
            problems.append(f"{label}: hidden, not graded")
            continue
        try:
            if path.resolve() in excluded:
                problems.append(f"{label}: the batch's output folder, not a submission")
                continue
        except OSError:
            pass
        if path.is_symlink():
            problems.append(f"{label}: a symbolic link, not graded")
            continue
        is_zip = raw.lower().endswith('.zip') and path.is_file()
        if not (is_zip or path.is_dir()):
            problems.append(f"{label}: not a .zip file or a folder, not graded")
            continue
        sid = by_name.get(raw) or (raw[:-4] if is_zip else raw)
        entry = Entry(sid, str(path))
        if roster is not None and sid not in roster:
            problems.append(f"{label}: student {shown(sid)} is not on the roster (graded anyway)")
        seen.setdefault(sid, []).append(entry)
        entries.append(entry)
    for sid, group in seen.items():
        if len(group) > 1:
            listed = ', '.join(shown(Path(e.submission).name) for e in group)
            problems.append(f"{shown(sid)}: {len(group)} submissions ({listed}); none counts "
                            f"until one is removed")
            for e in group:
                e.status, e.reason = 'duplicate', f"{len(group)} submissions: {listed}"
    for sid in (roster or {}):
        if sid not in seen:
            entries.append(Entry(sid, '', status='missing', reason='no submission', score=0.0))
            problems.append(f"{shown(sid)}: no submission")
    labels = [e.id if len(seen.get(e.id, ())) <= 1 else Path(e.submission).name for e in entries]
    for entry, name in zip(entries, folder_names(labels)):
        entry.folder = name
    return entries, problems
