"""Grading results for Gradescope, for people and for scripts.

results.json follows Gradescope's autograder specification (score,
execution_time, output, tests with name, number, score, max_score, status,
output and visibility, and a leaderboard). summary.json is the short
machine-readable version, with what the instructor needs besides: the
status ('graded', 'not graded' when the machine or the grader failed, with
the reason), the isolation in force, seconds per stage, the grader's own
errors. Both are written atomically and only by the judge.

They are written with autograder/files.py (atomic, mode 0640 in 0750 folders).
"""
import os
import sys
from pathlib import Path

from ..files import make_dir, write_json
from ..untrusted import capped, printable
MAX_OUTPUT = 8000       # characters of one test's feedback
MAX_NOTES = 40          # intake lines in the top-level output


def write_json_safely(out_dir, data):
    """write_json to out_dir/results.json, creating the folder; never raises."""
    try:
        make_dir(out_dir)
        write_json(Path(out_dir) / 'results.json', data)
    except OSError as err:
        print(f"autograder: cannot write results to {out_dir}: {err}", file=sys.stderr)


def results_json(results, notes, seconds, leaderboard, not_graded=()):
    """The Gradescope results document.

    Args:
        results: list of judge.TestResult.
        notes: lines for the top-level output (intake decisions).
        seconds: total grading time.
        leaderboard: {column name: value}.
        not_graded: 'test: reason' lines for tests the machine or grader
            failed (they are listed first, and the document says so).
    """
    total = sum(r.score for r in results)
    possible = sum(r.max_score for r in results)
    percent = 100.0 * total / possible if possible else 0.0
    output = []
    if not_graded:
        output.append(f"NOT GRADED: {len(not_graded)} test(s) could not be run because of the "
                      f"grading machine, not your code; they will be graded again. The total "
                      f"below is not your score.")
    output.append(f"Total: {total:g} / {possible:g} points ({percent:.1f}%)")
    output += capped([printable(n, limit=500) for n in notes], MAX_NOTES, 'more notes')
    document = {
        'score': round(total, 4),
        'execution_time': round(seconds, 2),
        'output': '\n'.join(output),
        'visibility': 'visible',
        'stdout_visibility': 'hidden',
        'tests': [{'name': f"{r.id}: {r.title}", 'number': r.number, 'score': r.score,
                   'max_score': r.max_score, 'status': r.status,
                   'output': printable(r.output, limit=MAX_OUTPUT),
                   'visibility': r.visibility} for r in results],
        'leaderboard': [{'name': name, 'value': round(value, 4), 'order': 'desc'}
                        for name, value in leaderboard.items()],
    }
    if not_graded:
        document['extra_data'] = {'status': 'not graded', 'not_graded': list(not_graded)}
    return document


def failed_results(reason, seconds=0.0):
    """A valid results document when nothing could be graded."""
    return {'score': 0.0, 'execution_time': round(seconds, 2),
            'output': printable(reason, limit=4000),
            'visibility': 'visible', 'stdout_visibility': 'hidden', 'tests': [],
            'leaderboard': []}


def summary_json(document, submission, digest, status, protections, stages, **extra):
    """The short machine-readable summary beside results.json.

    status: 'graded'; 'not graded' (the machine or the grader failed: not a
    score, graded again by a re-run); 'unreadable' (the submission itself
    could not be read: graded, 0).
    """
    possible = sum(t['max_score'] for t in document['tests'])
    return {
        'submission': printable(submission, limit=500), 'digest': digest, 'status': status,
        'score': document['score'], 'max_score': possible,
        'percent': round(100.0 * document['score'] / possible, 2) if possible else 0.0,
        'tests': {t['name'].split(':', 1)[0]: t['score'] for t in document['tests']},
        'leaderboard': {e['name']: e['value'] for e in document['leaderboard']},
        'protections': protections, 'seconds': stages, **extra,
    }


def _colour(text, code, enabled):
    return f"\033[{code}m{text}\033[0m" if enabled else text


def print_table(document, stream=None, colour=None):
    """A readable table of the tests, in colour on a terminal.

    Every text from the submission is shown through untrusted.printable, so
    escape sequences in an error message cannot redraw the terminal.
    """
    stream = stream or sys.stdout
    colour = stream.isatty() and os.environ.get('NO_COLOR') is None if colour is None else colour
    width = min(max([len(t['name']) for t in document['tests']] + [20]), 70)
    for test in document['tests']:
        mark = _colour('PASS', '32', colour) if test['status'] == 'passed' else \
            _colour('FAIL', '31', colour)
        name = printable(test['name'], newlines=False)
        name = name if len(name) <= width else name[:width - 3] + '...'
        print(f"{mark}  {name:<{width}}  {test['score']:>5g}/{test['max_score']:<3g}",
              file=stream)
        if test['status'] != 'passed':
            for line in printable(test['output'], limit=2000).splitlines()[:20]:
                print(f"      {line}", file=stream)
    for line in printable(document.get('output') or '').splitlines()[:3]:
        print(line, file=stream)
