"""Grading results for Gradescope, for people and for scripts.

results.json follows Gradescope's autograder specification (score,
execution_time, output, tests with name, number, score, max_score, status,
output and visibility, and a leaderboard). It is written atomically and only
by the judge. summary.json is the short machine-readable version, with what
the instructor needs besides (the isolation in force, timings).
"""
import json
import os
import sys
import tempfile
from pathlib import Path

LEADERBOARD = {'accuracy.two_layer': 'Two-layer net test accuracy',
               'accuracy.softmax_regression': 'Softmax regression test accuracy'}


def write_text(path, text):
    """Write a text file atomically: a temporary file in the same folder, then rename.

    Readers (and a run killed halfway) see the old file or the new one, never
    a part.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json(path, data):
    """Write JSON atomically (see write_text); NaN and infinity are refused."""
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + '\n')


def write_json_safely(out_dir, data):
    """write_json to out_dir/results.json, creating the folder; never raises."""
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(out_dir) / 'results.json', data)
    except OSError as err:
        print(f"autograder: cannot write results to {out_dir}: {err}", file=sys.stderr)


def results_json(results, notes, seconds, leaderboard):
    """The Gradescope results document.

    Args:
        results: list of judge.TestResult.
        notes: lines for the top-level output (intake decisions, errors).
        seconds: total grading time.
        leaderboard: test id -> value for the leaderboard columns.
    """
    total = sum(r.score for r in results)
    possible = sum(r.max_score for r in results)
    percent = 100.0 * total / possible if possible else 0.0
    output = [f"Total: {total:g} / {possible:g} points ({percent:.1f}%)"] + list(notes)
    return {
        'score': round(total, 4),
        'execution_time': round(seconds, 2),
        'output': '\n'.join(output),
        'visibility': 'visible',
        'stdout_visibility': 'hidden',
        'tests': [{'name': f"{r.id}: {r.title}", 'number': r.number, 'score': r.score,
                   'max_score': r.max_score, 'status': r.status, 'output': r.output,
                   'visibility': r.visibility} for r in results],
        'leaderboard': [{'name': LEADERBOARD[key], 'value': round(leaderboard[key], 4),
                         'order': 'desc'} for key in LEADERBOARD if key in leaderboard],
    }


def failed_results(reason, seconds=0.0):
    """A valid results document when nothing could be graded."""
    return {'score': 0.0, 'execution_time': round(seconds, 2), 'output': reason,
            'visibility': 'visible', 'stdout_visibility': 'hidden', 'tests': [],
            'leaderboard': []}


def summary_json(document, submission, digest, protections, stages):
    """The short machine-readable summary beside results.json."""
    possible = sum(t['max_score'] for t in document['tests'])
    return {
        'submission': str(submission), 'digest': digest,
        'score': document['score'], 'max_score': possible,
        'percent': round(100.0 * document['score'] / possible, 2) if possible else 0.0,
        'tests': {t['name'].split(':', 1)[0]: t['score'] for t in document['tests']},
        'leaderboard': {e['name']: e['value'] for e in document['leaderboard']},
        'protections': protections, 'seconds': stages,
    }


def _colour(text, code, enabled):
    return f"\033[{code}m{text}\033[0m" if enabled else text


def print_table(document, stream=None, colour=None):
    """A readable table of the tests, in colour on a terminal."""
    stream = stream or sys.stdout
    colour = stream.isatty() and os.environ.get('NO_COLOR') is None if colour is None else colour
    width = max([len(t['name']) for t in document['tests']] + [20])
    width = min(width, 70)
    for test in document['tests']:
        mark = _colour('PASS', '32', colour) if test['status'] == 'passed' else \
            _colour('FAIL', '31', colour)
        name = test['name'] if len(test['name']) <= width else test['name'][:width - 3] + '...'
        print(f"{mark}  {name:<{width}}  {test['score']:>5g}/{test['max_score']:<3g}",
              file=stream)
        if test['status'] != 'passed':
            for line in str(test['output']).splitlines():
                print(f"      {line}", file=stream)
    print(document['output'].splitlines()[0] if document['output'] else '', file=stream)
