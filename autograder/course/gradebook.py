"""gradebook.csv: nbgrader export's eleven columns, then one column per test, then a note.

The first eleven columns are exactly those of `nbgrader export`
(assignment, duedate, timestamp, student_id, last_name, first_name, email,
raw_score, late_submission_penalty, score, max_score), so whatever turns an
nbgrader CSV into an LMS upload takes this file unchanged. A missing
submission scores 0 with an empty timestamp, as nbgrader does; a submission
that could not be read scores 0 with the reason in the note; one the
machine or the grader failed on has no score, only a note, and is graded
again by the next run.

Every CSV the kit writes goes through write_csv: cells that a spreadsheet
would evaluate (starting with = + - @, a tab or a carriage return) are
neutralised, and text that is not UTF-8 is escaped.
"""
import csv
import io
import json
from pathlib import Path

from ..grading.report import write_text
from ..untrusted import csv_cell, name as shown, printable

NBGRADER_COLUMNS = ['assignment', 'duedate', 'timestamp', 'student_id', 'last_name',
                    'first_name', 'email', 'raw_score', 'late_submission_penalty', 'score',
                    'max_score']
COUNTED = ('graded', 'skipped', 'unreadable', 'missing')


def write_csv(path, header, rows):
    """Write rows (dicts keyed by header) as CSV, atomically, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[csv_cell(h) for h in header], restval='',
                            extrasaction='ignore')
    writer.writeheader()
    for row in rows:
        writer.writerow({csv_cell(k): csv_cell(v) for k, v in row.items()})
    write_text(path, buffer.getvalue())
    return Path(path)


def _test_scores(out, student):
    path = out / 'submissions' / student['folder'] / 'summary.json'
    try:
        summary = json.loads(path.read_text())
        tests = summary.get('tests', {})
        return {str(k): v for k, v in tests.items() if isinstance(v, (int, float))}
    except (OSError, ValueError, AttributeError):
        return {}


def write_gradebook(out, document, roster=None):
    """Write out/gradebook.csv from a batch document; return its path."""
    out = Path(out)
    tests, rows, by_id = [], [], {}
    for student in document['students']:
        by_id.setdefault(student['id'], []).append(student)
    for sid, group in by_id.items():
        student = group[0]
        single = len(group) == 1
        counted = single and student['status'] in COUNTED
        scores = _test_scores(out, student) if counted and student['status'] != 'missing' else {}
        tests.extend(t for t in scores if t not in tests)
        person = (roster or {}).get(sid, {})
        raw = student['score'] if counted and student['score'] is not None else ''
        penalty = student.get('late_penalty') or 0.0
        note = ''
        if not counted or student['status'] in ('unreadable', 'missing'):
            note = f"{student['status']}: {printable(student.get('reason') or '', 300)}".strip()
        elif student.get('duedate') and student.get('time_source'):
            note = (f"late: {penalty:g} points off" if penalty else "on time") + \
                f"; time from {printable(student['time_source'], 300)}"
        elif penalty:
            note = f"late: {penalty:g} points off"
        rows.append({
            'assignment': document['assignment'], 'duedate': student.get('duedate') or '',
            'timestamp': student['timestamp'] if counted else '', 'student_id': shown(sid),
            'last_name': person.get('last_name', ''), 'first_name': person.get('first_name', ''),
            'email': person.get('email', ''), 'raw_score': raw,
            'late_submission_penalty': round(penalty, 4) if raw != '' else '',
            'score': round(raw - penalty, 4) if raw != '' else '',
            'max_score': document['rubric_total'], **scores, 'note': note,
        })
    return write_csv(out / 'gradebook.csv', NBGRADER_COLUMNS + tests + ['note'], rows)
