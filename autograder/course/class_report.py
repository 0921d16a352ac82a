"""The class report: one page over a batch of graded submissions.

A batch (`autograder batch SUBMISSIONS --out OUT`) leaves OUT/batch.json and,
per student, OUT/submissions/<folder>/results.json and summary.json.
`write_class_report(OUT)` reads them and writes OUT/report/index.html
(templates/class_report.html) with the figures it shows beside it:

    scores.png    histogram of the scores, in percent of the total
    tests.png     pass rate of every test
    accuracy.png  test accuracies of the trained models (the leaderboard)
    slowest.png   grading time by stage of the slowest submissions

plus the headline numbers, every test's health (its pass rate and most common
failure message; a test most of the class fails is flagged, health.py), the
submissions that could not be graded and why, and a table of every submission. The page works from disk, with no server and
nothing fetched. Test ids, stage names and leaderboard columns come from the
results and the catalogue, never from a list here.
"""
import json
import math
import os
import statistics
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from .. import html
from ..grading.report import FILE_MODE, make_dir, write_text
from ..untrusted import printable
from .health import class_health

REPORT_DIR = 'report'
FIGURES = ('scores.png', 'tests.png', 'accuracy.png', 'slowest.png')
SLOWEST = 10
GRADED = ('graded', 'skipped')   # every other status is listed as not graded
REASON_CHARS = 400


@lru_cache(maxsize=1)
def _catalogue():
    """The rubric's tests, read once per process (None if the rubric cannot be read)."""
    from ..catalogue import load_catalogue
    try:
        return load_catalogue()
    except Exception:
        return None


def _stage_order():
    """Grading stages in the order they run: intake, workspace, data, each test stage, report."""
    stages = _catalogue().stages if _catalogue() else []
    return ['intake', 'workspace', 'data preparation', *stages, 'report']


def _leaderboard_names():
    return list(_catalogue().leaderboard().values()) if _catalogue() else []


class ClassReportError(Exception):
    """The batch folder cannot be reported on (no readable batch.json)."""


@dataclass
class Row:
    """One student of the batch, with what their results say."""
    id: str
    status: str
    submission: str = ''
    score: float = None
    max_score: float = None
    seconds: float = None
    reason: str = ''
    folder: str = ''         # its folder under submissions/
    results: dict = None
    summary: dict = None
    problem: str = ''        # why the submission counts as not graded ('' when graded)
    link: str = ''           # relative URL of its results.json from the page
    submission_name: str = ''

    @property
    def graded(self):
        return not self.problem

    @property
    def percent(self):
        if self.score is None or not self.max_score:
            return None
        return 100.0 * self.score / self.max_score

    def stage_seconds(self):
        """{stage: seconds} from summary.json, in the order stages run, then any others."""
        seconds = (self.summary or {}).get('seconds')
        if not isinstance(seconds, dict):
            return {}
        order = _stage_order()
        known = [s for s in order if _number(seconds.get(s)) is not None]
        others = sorted(s for s in seconds if s not in order and s != 'total'
                        and _number(seconds.get(s)) is not None)
        return {s: float(seconds[s]) for s in known + others}

    def total_seconds(self):
        """Seconds this submission took to grade, from the best source at hand."""
        seconds = (self.summary or {}).get('seconds')
        total = seconds.get('total') if isinstance(seconds, dict) else None
        for value in (total, self.seconds, (self.results or {}).get('execution_time')):
            if _number(value) is not None:
                return float(value)
        stages = self.stage_seconds()
        return sum(stages.values()) if stages else None


def _number(value):
    """value as a finite float, or None (JSON from disk is never trusted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value):
    return '' if value is None else printable(value, newlines=False)


def _safe_component(name):
    """True when `name` can only mean one folder directly under submissions/."""
    separators = {'/', os.sep} | ({os.altsep} if os.altsep else set())
    return (bool(name) and name not in ('.', '..') and '\0' not in name
            and not any(sep in name for sep in separators))


def _read_json(path):
    """(document, problem): the parsed JSON object, or None and why not."""
    try:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
    except FileNotFoundError:
        return None, f"{Path(path).name} missing"
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"{Path(path).name} unreadable ({type(err).__name__})"
    if not isinstance(data, dict):
        return None, f"{Path(path).name} is not a JSON object"
    return data, ''


def _first_lines(text, count=3):
    lines = [line for line in _text(text).splitlines() if line.strip()]
    return ' '.join(lines[:count])


def load_batch(batch_dir):
    """(batch document, [Row]) from a batch folder.

    Raises:
        ClassReportError: batch.json is missing or not a batch document.
    """
    batch_dir = Path(batch_dir)
    batch, problem = _read_json(batch_dir / 'batch.json')
    if batch is None:
        raise ClassReportError(f"{batch_dir}: {problem}; is this the --out folder of "
                               f"`autograder batch`?")
    students = batch.get('students')
    if not isinstance(students, list):
        raise ClassReportError(f"{batch_dir / 'batch.json'}: no list of students")
    rows = []
    for number, entry in enumerate(students, 1):
        if not isinstance(entry, dict):
            rows.append(Row(id=f"(entry {number})", status='unreadable',
                            problem="entry of batch.json is not an object"))
            continue
        rows.append(_row(batch_dir, entry, _number(batch.get('rubric_total'))))
    rows.sort(key=lambda r: r.id)
    return batch, rows


def _row(batch_dir, entry, rubric_total):
    row = Row(id=_text(entry.get('id')) or '(no id)', status=_text(entry.get('status')),
              submission=_text(entry.get('submission')), score=_number(entry.get('score')),
              max_score=_number(entry.get('max_score')), seconds=_number(entry.get('seconds')),
              reason=_text(entry.get('reason')))
    # the results folder: batch.json's 'folder' (a safe form of the id) or the id itself
    row.folder = _text(entry.get('folder')) or row.id
    folder = batch_dir / 'submissions' / row.folder
    if _safe_component(row.folder) and folder.is_dir():
        row.results, results_problem = _read_json(folder / 'results.json')
        row.summary, _ = _read_json(folder / 'summary.json')
    else:
        results_problem = "no results folder"
    results = row.results or {}
    tests = results.get('tests') if isinstance(results.get('tests'), list) else []
    if row.score is None:
        row.score = _number(results.get('score'))
    if not row.max_score:
        row.max_score = (_number((row.summary or {}).get('max_score'))
                         or sum(_number(t.get('max_score')) or 0 for t in tests
                                if isinstance(t, dict)) or rubric_total)
    if row.status not in GRADED:  # failed, unreadable, duplicate, missing, ...
        row.problem = row.reason or _first_lines(results.get('output')) or row.status
    elif row.results is None:
        row.problem = row.reason or results_problem
    elif not tests:
        row.problem = (_first_lines(results.get('output')) or row.reason
                       or "graded, but the results hold no test")
    if len(row.problem) > REASON_CHARS:
        row.problem = row.problem[:REASON_CHARS - 1] + '…'
    return row


# ---------------------------------------------------------------------------
# Figures

def _label(text, width=28):
    """A student-controlled string made safe for a matplotlib label."""
    text = ' '.join(_text(text).split())
    if len(text) > width:
        text = text[:width - 1] + '…'
    return text.replace('$', r'\$')


def _figure(width, height):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100)


def _save(fig, path):
    fig.savefig(path, format='png', metadata={'Software': None})
    os.chmod(path, FILE_MODE)


def _score_figure(rows, path):
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    graded = [r for r in rows if r.graded and r.percent is not None]
    values = np.array([min(max(r.percent, 0.0), 100.0) for r in graded])
    fig = _figure(7, 3.8)
    ax = fig.add_subplot()
    ax.hist(values, bins=np.arange(0, 105, 5), color='#4c72b0', edgecolor='white')
    mean, median = float(values.mean()), float(np.median(values))
    ax.axvline(mean, color='#c44e52', linestyle='--', label=f"mean {mean:.1f}%")
    ax.axvline(median, color='#222222', linestyle=':', label=f"median {median:.1f}%")
    ax.set_xlim(0, 100)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel('Score (% of the total points)')
    ax.set_ylabel('Submissions')
    ax.set_title(f"Scores of the {len(values)} graded submissions")
    ax.legend(loc='upper left')
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def _test_rates(rows):
    """[(test id, passed, graded with that test)] in the rubric's order."""
    order, passed, seen = {}, {}, {}
    for row in rows:
        if not row.graded:
            continue
        for test in row.results.get('tests', []):
            if not isinstance(test, dict):
                continue
            test_id = _text(test.get('name')).split(':', 1)[0].strip() or '(unnamed)'
            number = _text(test.get('number'))
            order.setdefault(test_id, (_sort_number(number), len(order)))
            seen[test_id] = seen.get(test_id, 0) + 1
            passed[test_id] = passed.get(test_id, 0) + (test.get('status') == 'passed')
    ids = sorted(order, key=lambda t: order[t])
    return [(t, passed[t], seen[t]) for t in ids]


def _sort_number(number):
    """'1.10' after '1.9': Gradescope test numbers compare part by part."""
    parts = []
    for part in number.split('.'):
        parts.append((0, int(part), '') if part.isdigit() else (1, 0, part))
    return tuple(parts) if number else ((2, 0, ''),)


def _tests_figure(rates, graded, path):
    fig = _figure(8, max(2.5, 0.27 * len(rates) + 1.3))
    ax = fig.add_subplot()
    labels = [_label(t, 40) for t, _, _ in rates]
    shares = [100.0 * p / n for _, p, n in rates]
    positions = range(len(rates))
    ax.barh(positions, shares, color=['#55a868' if s >= 50 else '#dd8452' for s in shares])
    for y, (share, (_, p, n)) in enumerate(zip(shares, rates)):
        ax.text(min(share, 100) + 1, y, f"{p}/{n}", va='center', fontsize=8)
    ax.set_yticks(list(positions), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 112)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel('Graded submissions passing the test (%)')
    ax.set_ylabel('Test')
    ax.set_title(f"Pass rate of every test ({graded} graded submissions)")
    ax.grid(axis='x', alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def _accuracies(rows):
    """{leaderboard name: [values]} over graded rows, the two models first."""
    found = {}
    for row in rows:
        if not row.graded:
            continue
        board = row.results.get('leaderboard')
        entries = {}
        if isinstance(board, list):
            entries = {_text(e.get('name')): e.get('value') for e in board if isinstance(e, dict)}
        elif isinstance((row.summary or {}).get('leaderboard'), dict):
            entries = row.summary['leaderboard']
        for name, value in entries.items():
            if _number(value) is not None:
                found.setdefault(name, []).append(float(value))
    models = _leaderboard_names()
    names = models + sorted(n for n in found if n not in models)
    return {n: found.get(n, []) for n in names}


def _accuracy_figure(accuracies, graded, path):
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    fig = _figure(5 * len(accuracies), 3.8)
    axes = fig.subplots(1, len(accuracies), squeeze=False)[0]
    for ax, (name, values) in zip(axes, accuracies.items()):
        ax.set_title(_label(name, 60), fontsize=10)
        ax.set_xlabel('Test accuracy')
        ax.set_ylabel('Submissions')
        if not values:
            ax.text(0.5, 0.5, 'no submission has this accuracy', ha='center', va='center',
                    transform=ax.transAxes)
            ax.set_xlim(0, 1)
            continue
        lo, hi = min(values), max(values)
        if hi - lo < 0.05:
            lo, hi = max(0.0, (lo + hi) / 2 - 0.025), min(1.0, (lo + hi) / 2 + 0.025)
            if hi - lo < 0.05:
                lo, hi = (0.95, 1.0) if hi >= 1.0 else (0.0, 0.05)
        ax.hist(values, bins=np.linspace(lo, hi, 21), color='#8172b3', edgecolor='white')
        median = float(np.median(values))
        ax.axvline(median, color='#222222', linestyle=':', label=f"median {median:.4f}")
        ax.legend(loc='upper left', fontsize=8,
                  title=f"{len(values)} of {graded} submissions", title_fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis='y', alpha=0.3)
    fig.suptitle('Test accuracy after training, from the leaderboard')
    fig.tight_layout()
    _save(fig, path)


def _slowest(rows):
    timed = [r for r in rows if r.total_seconds() is not None]
    timed.sort(key=lambda r: (-r.total_seconds(), r.id))
    return timed[:SLOWEST]


def _slowest_figure(slowest, path):
    fig = _figure(9, max(2.5, 0.42 * len(slowest) + 1.6))
    ax = fig.add_subplot()
    stages = []
    for row in slowest:
        stages += [s for s in row.stage_seconds() if s not in stages]
    colours = ['#4c72b0', '#55a868', '#c44e52', '#8172b3', '#ccb974', '#64b5cd', '#8c8c8c',
               '#dd8452', '#937860', '#da8bc3']
    labels = [_label(r.id) for r in slowest]
    positions = list(range(len(slowest)))
    left = [0.0] * len(slowest)
    for i, stage in enumerate(stages + ['not broken down']):
        if stage == 'not broken down':
            widths = [max(r.total_seconds() - sum(r.stage_seconds().values()), 0.0)
                      for r in slowest]
            colour = '#d9d9d9'
            if max(widths) < 0.05:
                break
        else:
            widths = [r.stage_seconds().get(stage, 0.0) for r in slowest]
            colour = colours[i % len(colours)]
        ax.barh(positions, widths, left=left, color=colour, label=stage)
        left = [a + b for a, b in zip(left, widths)]
    ax.set_yticks(positions, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel('Seconds')
    ax.set_ylabel('Submission')
    ax.set_title(f"Grading time of the {len(slowest)} slowest submissions, by stage")
    ax.legend(loc='lower right', fontsize=8)
    ax.grid(axis='x', alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


# ---------------------------------------------------------------------------
# Page

def _results_link(row, base):
    if row.results is None or not _safe_component(row.folder):
        return ''
    return f"{base}/{quote(row.folder, safe='')}/results.json"


def render(batch, rows, figures, submissions_href='../submissions'):
    """The page's HTML (templates/class_report.html).

    Args:
        batch: the batch.json document.
        rows: [Row] from load_batch.
        figures: the names of the PNGs drawn beside the page.
        submissions_href: relative URL of OUT/submissions seen from the page.
    """
    graded = [r for r in rows if r.graded]
    failed = [r for r in rows if not r.graded]
    percents = [r.percent for r in graded if r.percent is not None]
    scores = [r.score for r in graded if r.score is not None]
    total = _number(batch.get('rubric_total'))
    meta = [f"{len(rows)} submissions"]
    if batch.get('started') or batch.get('finished'):
        meta.append(f"graded from {_text(batch.get('started'))} to {_text(batch.get('finished'))}")
    if _number(batch.get('jobs')) is not None:
        meta.append(f"{_number(batch.get('jobs')):g} parallel jobs")
    if total:
        meta.append(f"rubric total {total:g} points")
    if batch.get('late_policy'):
        meta.append(_text(batch['late_policy']))
    stats = None
    if percents:
        stats = {'mean': statistics.fmean(percents), 'median': statistics.median(percents),
                 'low': min(percents), 'high': max(percents),
                 'mean_points': f" ({statistics.fmean(scores):.1f} points)" if scores else '',
                 'median_points': f" ({statistics.median(scores):.1f} points)" if scores else ''}
    for row in rows:
        row.link = _results_link(row, submissions_href)
        row.submission_name = Path(row.submission).name if row.submission else ''
    slowest = _slowest(rows)
    slow_stages = []
    for row in slowest:
        slow_stages += [s for s in row.stage_seconds() if s not in slow_stages]
    problems = batch.get('problems') if isinstance(batch.get('problems'), list) else []
    title = 'Class report' + (f": {_text(batch['assignment'])}" if batch.get('assignment') else '')
    health = class_health(r.results for r in graded)
    return html.render('class_report.html', title=title, meta=meta, rows=rows, graded=graded,
                       failed=failed, stats=stats, figures=figures, figure_count=len(figures),
                       problems=[_text(p) for p in problems[:500]], slowest=slowest,
                       slow_stages=slow_stages,
                       interrupted=_text(batch.get('interrupted')) or None,
                       not_graded=sum(r.status == 'not graded' for r in rows),
                       health=health, flagged=[h for h in health if h.flagged])


def flagged_tests(batch_dir):
    """[TestHealth] of the tests a batch's graded class fails en masse (health.py)."""
    _, rows = load_batch(batch_dir)
    return [h for h in class_health(r.results for r in rows if r.graded) if h.flagged]


def write_class_report(batch_dir, out_dir=None):
    """Write the class report of a batch folder; return the path of index.html.

    Args:
        batch_dir: the --out folder of `autograder batch` (holds batch.json).
        out_dir: where to write (default batch_dir/report).

    Raises:
        ClassReportError: batch.json is missing or unreadable.
    """
    batch, rows = load_batch(batch_dir)
    out_dir = make_dir(Path(out_dir) if out_dir else Path(batch_dir) / REPORT_DIR)
    for name in FIGURES:  # a figure not drawn this time must not linger from the last
        (out_dir / name).unlink(missing_ok=True)
    graded = [r for r in rows if r.graded]
    figures = []
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Glyph .* missing')
        if any(r.percent is not None for r in graded):
            _score_figure(rows, out_dir / 'scores.png')
            figures.append('scores.png')
        rates = _test_rates(rows)
        if rates:
            _tests_figure(rates, len(graded), out_dir / 'tests.png')
            figures.append('tests.png')
        accuracies = _accuracies(rows)
        if any(accuracies.values()):
            _accuracy_figure(accuracies, len(graded), out_dir / 'accuracy.png')
            figures.append('accuracy.png')
        slowest = _slowest(rows)
        if slowest:
            _slowest_figure(slowest, out_dir / 'slowest.png')
            figures.append('slowest.png')
    page = out_dir / 'index.html'
    base = Path(os.path.relpath(Path(batch_dir).resolve() / 'submissions', out_dir.resolve()))
    href = '/'.join(quote(part) for part in base.parts)
    write_text(page, render(batch, rows, figures, href))
    return page
