"""Grade a folder of submissions, N at a time, resumably; write the gradebook.

    OUT/
      batch.json                 every student's status, score, time, reason
      gradebook.csv              one row per student (nbgrader export columns + tests)
      submissions/<id>/          results.json and summary.json of each student

Each submission is graded by a worker process with its own Grader (its own
sandbox uid, workspace, and cores // jobs BLAS threads), so one submission's crash, timeout
or memory bomb never touches another's result. A student's folder is
published by renaming a complete temporary folder into place: stopping the
batch at any moment loses at most the submissions in flight, and a re-run
skips every submission whose content (and the grader) has not changed.
"""
import csv
import datetime
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from . import intake, paths, report
from .sandbox import blas_threads

NBGRADER_COLUMNS = ['assignment', 'duedate', 'timestamp', 'student_id', 'last_name',
                    'first_name', 'email', 'raw_score', 'late_submission_penalty', 'score',
                    'max_score']
ROSTER_COLUMNS = {'student_id', 'last_name', 'first_name', 'email', 'submission'}


class BatchError(ValueError):
    """The batch cannot start (bad folder, bad roster); the message says why."""


@dataclass
class Entry:
    """One student's submission in the batch."""
    id: str
    submission: str
    folder: str = ''
    status: str = 'pending'
    score: object = None
    max_score: object = None
    seconds: object = None
    reason: object = None
    timestamp: str = ''
    digest: str = ''


def _safe_name(student_id, taken):
    """A folder name for a student id: its safe characters, made unique."""
    name = re.sub(r'[^A-Za-z0-9._@+-]', '_', student_id).strip('.') or 'student'
    if name in taken:
        name += '-' + hashlib.sha256(student_id.encode()).hexdigest()[:8]
    taken.add(name)
    return name


def read_roster(path):
    """Roster rows by student id; 'submission' maps to a file or folder name."""
    try:
        with open(path, newline='') as f:
            rows = list(csv.DictReader(f))
    except OSError as err:
        raise BatchError(f"cannot read the roster {path}: {err}") from None
    if not rows or 'student_id' not in rows[0]:
        raise BatchError(f"{path}: a roster needs a 'student_id' column "
                         f"(optional: {', '.join(sorted(ROSTER_COLUMNS - {'student_id'}))})")
    unknown = set(rows[0]) - ROSTER_COLUMNS
    if unknown:
        raise BatchError(f"{path}: unknown column(s) {', '.join(sorted(unknown))}; "
                         f"valid: {', '.join(sorted(ROSTER_COLUMNS))}")
    roster = {}
    for row in rows:
        sid = (row.get('student_id') or '').strip()
        if not sid:
            raise BatchError(f"{path}: a row without a student_id")
        if sid in roster:
            raise BatchError(f"{path}: student {sid} appears twice")
        roster[sid] = row
    return roster


def discover(folder, roster=None):
    """The entries to grade and the problems found on the way.

    Every zip file and every folder in `folder` is a submission; its student
    id is the name without '.zip', or the roster's student whose
    'submission' column names it. Duplicates, stray files, hidden files
    (status 'hidden') and roster students without a submission are
    reported, never dropped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BatchError(f"{folder}: not a folder of submissions")
    by_name = {}
    if roster:
        for sid, row in roster.items():
            if row.get('submission'):
                by_name[row['submission'].strip()] = sid
    entries, problems, seen = [], [], {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith('.'):
            problems.append(f"{path.name}: hidden file, not graded")
            entries.append(Entry(path.name, str(path), status='hidden',
                                 reason='hidden file, not a submission'))
            continue
        sid = by_name.get(path.name) or (path.name[:-4] if path.name.lower().endswith('.zip')
                                          else path.name if path.is_dir()
                                          else path.name.split('.')[0])
        entry = Entry(sid, str(path))
        if path.is_symlink() or not (path.is_dir() or path.name.lower().endswith('.zip')):
            entry.status = 'unreadable'
            entry.reason = ("a symbolic link" if path.is_symlink()
                            else "not a .zip file or a folder")
            problems.append(f"{path.name}: {entry.reason}")
        elif roster is not None and sid not in roster:
            problems.append(f"{path.name}: student {sid} is not on the roster (graded anyway)")
        seen.setdefault(sid, []).append(entry)
        entries.append(entry)
    for sid, group in seen.items():
        if len(group) > 1:
            names = ', '.join(Path(e.submission).name for e in group)
            problems.append(f"{sid}: {len(group)} submissions ({names}); none counts "
                            f"until one is removed")
            for e in group:
                if e.status == 'pending':
                    e.status, e.reason = 'duplicate', f"{len(group)} submissions: {names}"
    if roster:
        for sid in roster:
            if sid not in seen:
                entries.append(Entry(sid, '', status='missing', reason='no submission',
                                     score=0.0))
                problems.append(f"{sid}: no submission")
    taken = set()
    for entry in entries:
        entry.folder = _safe_name(entry.id, taken)
    return entries, problems


def labelled(entries):
    """(label, entry) pairs: the student id, or the entry's own name where two share one."""
    counts = {}
    for entry in entries:
        counts[entry.id] = counts.get(entry.id, 0) + 1
    return [(entry.id if counts[entry.id] == 1 else Path(entry.submission).name, entry)
            for entry in entries]


# -- workers ------------------------------------------------------------------
_GRADER = None


_VERSION = None


def _init_worker(rubric, only, limits_kwargs, version):
    global _GRADER, _VERSION
    _VERSION = version
    from .grade import Grader
    from .sandbox import Limits

    _GRADER = Grader(rubric_path=rubric, only=only, slot=os.getpid() % 1000,
                     limits=Limits(**limits_kwargs))
    import atexit
    atexit.register(_GRADER.close)


def _grade_one(submission, final_dir):
    """Grade into a temporary folder, then swap it into place. Runs in a worker."""
    final_dir = Path(final_dir)
    tmp = final_dir.parent / f'.tmp-{final_dir.name}-{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)
    start = time.monotonic()
    try:
        document, summary = _GRADER.grade(submission, tmp)
    except Exception as err:  # the grader failed on this one; the batch goes on
        shutil.rmtree(tmp, ignore_errors=True)
        return {'status': 'failed', 'reason': f"{type(err).__name__}: {err}",
                'seconds': time.monotonic() - start}
    summary['grader'] = _VERSION  # a re-run skips only what this grader graded
    report.write_json(tmp / 'summary.json', summary)
    _publish(tmp, final_dir)
    return {'status': 'graded', 'score': document['score'], 'max_score': summary['max_score'],
            'seconds': summary['seconds'].get('total'), 'digest': summary['digest'],
            'reason': None if document['tests'] else document['output']}


def _publish(tmp, final):
    """Replace final by tmp; at no moment is a half-written folder under final."""
    old = final.parent / f'.old-{final.name}-{os.getpid()}'
    if final.exists():
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _recover(submissions):
    """Undo what a killed run left: restore swapped-out folders, drop partial ones."""
    for path in submissions.glob('.old-*'):
        final = submissions / path.name[len('.old-'):].rsplit('-', 1)[0]
        if not final.exists():
            os.rename(path, final)
        else:
            shutil.rmtree(path, ignore_errors=True)
    for path in submissions.glob('.tmp-*'):
        shutil.rmtree(path, ignore_errors=True)


def grader_version(rubric_path=None, only=None):
    """A hash of everything that decides a grade: rubric, tests, probes, reference."""
    h = hashlib.sha256(repr(sorted(only or [])).encode())
    here = paths.PACKAGE
    for path in [Path(rubric_path or here / 'rubric.yaml'), here / 'hidden_tests.py',
                 here / 'probes.py', here / 'judge.py',
                 *sorted(paths.solutions_dir().rglob('*.py'))]:
        h.update(path.read_bytes())
    return h.hexdigest()


def _already_graded(entry, final_dir, allowlist, version):
    """True if final_dir holds results for exactly this content and grader."""
    try:
        summary = json.loads((final_dir / 'summary.json').read_text())
        json.loads((final_dir / 'results.json').read_text())
        digest = intake.fingerprint(entry.submission, allowlist)
    except (OSError, ValueError):
        return None
    if summary.get('digest') == digest and summary.get('grader') == version:
        return summary
    return None


def grade_batch(folder, out, jobs=1, force=False, roster_path=None, rubric=None, only=None,
                assignment='hw1', progress=None, limits_kwargs=None, threads=None):
    """Grade every submission in `folder` into `out`; return the batch document.

    Args:
        jobs: worker processes.
        threads: BLAS threads of each worker (default blas_threads(jobs):
            cores // jobs).
        force: grade again even what was already graded.
        roster_path: optional roster CSV (student_id, last_name, first_name,
            email, submission).
        progress: None for a bar on a terminal only, False for none.
    """
    out = Path(out)
    roster = read_roster(roster_path) if roster_path else None
    entries, problems = discover(folder, roster)
    entries = [e for e in entries if e.status != 'hidden']  # listed in problems only
    submissions = out / 'submissions'
    submissions.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    _recover(submissions)
    started = datetime.datetime.now().isoformat(timespec='seconds')
    version = grader_version(rubric, only)
    allowlist = intake.Allowlist.read(paths.student_dir() / 'submission_files.txt')

    todo = []
    for entry in entries:
        if entry.submission:
            entry.timestamp = datetime.datetime.fromtimestamp(
                os.stat(entry.submission).st_mtime).isoformat(timespec='seconds')
        if entry.status != 'pending' and entry.status != 'duplicate':
            continue
        final = submissions / entry.folder
        done = None if force else _already_graded(entry, final, allowlist, version)
        if done:
            if entry.status == 'pending':
                entry.status = 'skipped'
            entry.score = done['score']
            entry.max_score, entry.seconds = done['max_score'], done['seconds'].get('total')
            entry.digest = done['digest']
        else:
            todo.append(entry)

    # workers x BLAS threads <= cores: two 2-thread processes on 2 cores run
    # about 6x slower each, while a lone worker's second thread makes its
    # two-layer epochs about 1.7x faster (bench/RESULTS.md).
    threads = threads or blas_threads(jobs)
    for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = str(threads)  # the workers' own numpy, inherited
    limits = dict(limits_kwargs or {}, blas_threads=threads)
    show = sys.stderr.isatty() if progress is None else progress
    if todo:
        context = multiprocessing.get_context('spawn')
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(rubric, only, limits, version)) as pool:
            futures = {pool.submit(_grade_one, e.submission, str(submissions / e.folder)): e
                       for e in todo}
            bar = None
            if show:
                from tqdm import tqdm
                bar = tqdm(total=len(todo), unit='submission', desc='grading', file=sys.stderr)
            for future in as_completed(futures):
                entry = futures[future]
                try:
                    outcome = future.result()
                except Exception as err:  # a worker died (e.g. killed): that entry only
                    outcome = {'status': 'failed', 'reason': f"worker failed: {err}"}
                duplicate = entry.status == 'duplicate' and outcome['status'] == 'graded'
                for key, value in outcome.items():
                    if not (duplicate and key in ('status', 'reason')):
                        setattr(entry, key, value)
                if bar:
                    bar.update(1)
            if bar:
                bar.close()

    document = {
        'assignment': assignment,
        'rubric_total': _rubric_total(rubric, only),
        'students': [asdict(e) for e in entries],
        'problems': problems,
        'jobs': jobs, 'started': started,
        'finished': datetime.datetime.now().isoformat(timespec='seconds'),
        'grader': version,
    }
    report.write_json(out / 'batch.json', document)
    write_gradebook(out, document, roster)
    return document


def _rubric_total(rubric, only):
    import fnmatch

    from .rubric import load_rubric
    tests = load_rubric(rubric or paths.PACKAGE / 'rubric.yaml').tests
    return sum(t.points for t in tests
               if not only or any(fnmatch.fnmatchcase(t.id, p) for p in only))


def write_gradebook(out, document, roster=None):
    """gradebook.csv: nbgrader's export columns, then one column per test, then a note.

    The first eleven columns are exactly those of `nbgrader export` (a
    missing submission scores 0 with an empty timestamp, as nbgrader does),
    so whatever turns an nbgrader CSV into an LMS upload takes this file
    unchanged; the test columns follow.
    """
    out = Path(out)
    tests = []
    rows = []
    by_id = {}
    for student in document['students']:
        by_id.setdefault(student['id'], []).append(student)
    for sid, group in by_id.items():
        student = group[0]
        scores = {}
        summary_path = out / 'submissions' / student['folder'] / 'summary.json'
        if len(group) == 1 and student['status'] in ('graded', 'skipped') \
                and summary_path.exists():
            scores = json.loads(summary_path.read_text()).get('tests', {})
            tests.extend(t for t in scores if t not in tests)
        person = (roster or {}).get(sid, {})
        counted = len(group) == 1 and student['status'] in ('graded', 'skipped', 'missing')
        score = student['score'] if counted and student['score'] is not None else ''
        note = '' if counted and student['status'] != 'missing' else \
            f"{student['status']}: {student['reason'] or ''}".strip()
        rows.append({
            'assignment': document['assignment'], 'duedate': '',
            'timestamp': student['timestamp'] if counted else '', 'student_id': sid,
            'last_name': person.get('last_name', ''), 'first_name': person.get('first_name', ''),
            'email': person.get('email', ''), 'raw_score': score,
            'late_submission_penalty': 0.0 if score != '' else '', 'score': score,
            'max_score': document['rubric_total'], **scores, 'note': note,
        })
    path = out / 'gradebook.csv'
    tmp = path.with_name('.gradebook.csv.tmp')
    with open(tmp, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=NBGRADER_COLUMNS + tests + ['note'], restval='')
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path
