"""The class report: one page over a batch of graded submissions.

Batch grading (`autograder grade SUBMISSIONS_DIR --out OUT`) leaves
OUT/batch.json and, per student, OUT/submissions/<id>/results.json and
summary.json. `write_class_report(OUT)` reads them and writes
OUT/report/index.html with the figures it shows beside it as PNGs:

    scores.png    histogram of the scores, in percent of the total
    tests.png     pass rate of every test
    accuracy.png  test accuracies of the two trained models (the leaderboard)
    slowest.png   grading time by stage of the slowest submissions

plus the headline numbers, the submissions that could not be graded and why,
and a table of every submission. The page works from disk, with no server and
nothing fetched: relative image paths, inline style, one small inline script
that reports how many figures loaded. Student ids and reasons come from file
names students chose, so every string on the page is escaped.
"""
import base64
import hashlib
import html
import json
import math
import os
import statistics
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .report import write_text

REPORT_DIR = 'report'
FIGURES = ('scores.png', 'tests.png', 'accuracy.png', 'slowest.png')
STAGES = ('intake', 'workspace', 'function tests', 'gradient tests', 'accuracy training',
          'report')
MODELS = ('Two-layer net test accuracy', 'Softmax regression test accuracy')
SLOWEST = 10
GRADED = ('graded', 'skipped')   # every other status is listed as not graded
REASON_CHARS = 400


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

    @property
    def graded(self):
        return not self.problem

    @property
    def percent(self):
        if self.score is None or not self.max_score:
            return None
        return 100.0 * self.score / self.max_score

    def stage_seconds(self):
        """{stage: seconds} from summary.json, in STAGES order, then any others."""
        seconds = (self.summary or {}).get('seconds')
        if not isinstance(seconds, dict):
            return {}
        known = [s for s in STAGES if _number(seconds.get(s)) is not None]
        others = sorted(s for s in seconds if s not in STAGES and s != 'total'
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
    return '' if value is None else str(value)


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
        raise ClassReportError(f"{batch_dir}: {problem}; is this the --out folder of a "
                               f"batch `autograder grade`?")
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
    names = [m for m in MODELS] + sorted(n for n in found if n not in MODELS)
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

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1100px; margin: 1.5em auto; padding: 0 1em; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
.meta, .note { color: #555; }
.numbers { display: flex; flex-wrap: wrap; gap: 0.8em; padding: 0; list-style: none; }
.numbers li { border: 1px solid #ccc; border-radius: 6px; padding: 0.5em 0.9em; }
.numbers b { display: block; font-size: 1.5em; }
.empty { background: #fff4e5; border: 1px solid #f0b35a; padding: 0.8em; border-radius: 6px; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.why { max-width: 38em; overflow-wrap: anywhere; }
footer { margin-top: 2em; color: #777; font-size: 0.85em; }
"""

# Counts the figures that really loaded, so a glance (or a headless browser in
# the kit's tests) tells whether the PNGs are where the page expects them.
_SCRIPT = """
window.addEventListener('load', function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { loaded++; }
  }
  var out = document.getElementById('images-loaded');
  out.textContent = loaded + ' of ' + images.length;
  out.setAttribute('data-loaded', String(loaded));
  out.setAttribute('data-total', String(images.length));
  if (loaded < images.length) { out.style.color = '#b00020'; }
});
"""


def _e(value):
    return html.escape(_text(value), quote=True)


def _pct(value):
    return '' if value is None else f"{value:.1f}%"


def _num(value):
    return '' if value is None else f"{value:g}"


def _duration(seconds):
    if seconds is None:
        return ''
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def _figure_html(name, alt, caption):
    return (f"<figure><img src='{name}' alt='{_e(alt)}'>"
            f"<figcaption>{caption}</figcaption></figure>")


def _results_link(row, base):
    if row.results is None or not _safe_component(row.folder):
        return ''
    href = f"{base}/{quote(row.folder, safe='')}/results.json"
    return f"<a href='{_e(href)}'>results</a>"


def render(batch, rows, figures, submissions_href='../submissions'):
    """The page's HTML.

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
    title = 'Class report' + (f": {_e(batch['assignment'])}" if batch.get('assignment') else '')
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    out = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>",
           # nothing is fetched or run but the figures beside the page and our own script
           f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
           f"img-src 'self' file: data:; style-src 'unsafe-inline'; "
           f"script-src 'sha256-{script_hash}'\">",
           f"<title>{title}</title>", f"<style>{_STYLE}</style></head><body>",
           f"<h1>{title}</h1>"]
    when = [f"{len(rows)} submissions"]
    if batch.get('started') or batch.get('finished'):
        when.append(f"graded from {_e(batch.get('started'))} to {_e(batch.get('finished'))}")
    if _number(batch.get('jobs')) is not None:
        when.append(f"{_number(batch.get('jobs')):g} parallel jobs")
    if total:
        when.append(f"rubric total {total:g} points")
    out.append(f"<p class='meta'>{'; '.join(when)}.</p>")

    out.append("<ul class='numbers'>")
    out.append(f"<li>graded<b>{len(graded)}</b></li>")
    out.append(f"<li>could not be graded<b>{len(failed)}</b></li>")
    if percents:
        mean_points = f" ({statistics.fmean(scores):.1f} points)" if scores else ''
        median_points = f" ({statistics.median(scores):.1f} points)" if scores else ''
        out.append(f"<li>mean score<b>{statistics.fmean(percents):.1f}%</b>{mean_points}</li>")
        out.append(f"<li>median score<b>{statistics.median(percents):.1f}%</b>"
                   f"{median_points}</li>")
        out.append(f"<li>lowest / highest<b>{min(percents):.1f}% / {max(percents):.1f}%</b></li>")
    out.append("</ul>")
    if not rows:
        out.append("<p class='empty'>This batch holds no submissions: there is nothing to "
                   "report.</p>")
    elif not graded:
        out.append(f"<p class='empty'>None of the {len(rows)} submissions could be graded, "
                   f"so there are no scores, test results or accuracies to show. The list "
                   f"below says why for each one.</p>")

    if 'scores.png' in figures:
        out.append("<h2>Scores</h2>")
        out.append(_figure_html('scores.png', 'Histogram of the scores',
                                "Scores of the graded submissions in percent of the total, "
                                "in bins of 5 points."))
    if 'tests.png' in figures:
        out.append("<h2>Tests</h2>")
        out.append(_figure_html('tests.png', 'Pass rate of every test',
                                "Share of the graded submissions that pass each test, in the "
                                "rubric's order; a test with partial credit counts as failed."))
    if graded:
        out.append("<h2>Test accuracy</h2>")
        if 'accuracy.png' in figures:
            out.append(_figure_html('accuracy.png', 'Distribution of the test accuracies',
                                    "Test accuracy of each trained model, as reported on the "
                                    "leaderboard."))
        else:
            out.append("<p>No graded submission reports a test accuracy.</p>")

    out.append("<h2>Could not be graded</h2>")
    if failed:
        out.append("<table><tr><th>student</th><th>status</th><th>submission</th>"
                   "<th>why</th></tr>")
        for row in failed:
            status = row.status + (', no test results' if row.status in GRADED else '')
            out.append(f"<tr><td>{_e(row.id)}</td><td>{_e(status)}</td>"
                       f"<td>{_e(Path(row.submission).name if row.submission else '')}</td>"
                       f"<td class='why'>{_e(row.problem)}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>Every submission was graded.</p>" if rows else "<p>None.</p>")
    problems = batch.get('problems')
    if isinstance(problems, list) and problems:
        out.append("<h2>Problems found in the submissions folder</h2><ul>")
        out.extend(f"<li>{_e(p)}</li>" for p in problems)
        out.append("</ul>")

    slowest = _slowest(rows)
    out.append("<h2>Slowest submissions</h2>")
    if slowest:
        stages = []
        for row in slowest:
            stages += [s for s in row.stage_seconds() if s not in stages]
        out.append("<table><tr><th>student</th><th>status</th><th>score</th><th>total</th>"
                   + ''.join(f"<th>{_e(s)}</th>" for s in stages) + "</tr>")
        for row in slowest:
            parts = row.stage_seconds()
            out.append(f"<tr><td>{_e(row.id)}</td><td>{_e(row.status)}</td>"
                       f"<td class='num'>{_pct(row.percent) if row.graded else ''}</td>"
                       f"<td class='num'>{_duration(row.total_seconds())}</td>"
                       + ''.join(f"<td class='num'>{_duration(parts.get(s))}</td>"
                                 for s in stages) + "</tr>")
        out.append("</table>")
        if 'slowest.png' in figures:
            out.append(_figure_html('slowest.png', 'Grading time of the slowest submissions',
                                    "Seconds spent in each stage of grading (summary.json)."))
    else:
        out.append("<p>No grading times recorded.</p>")

    if rows:
        out.append("<h2>All submissions</h2><details><summary>Show the table of all "
                   f"{len(rows)} submissions</summary>")
        out.append("<table><tr><th>student</th><th>status</th><th>score</th>"
                   "<th>percent</th><th>time</th><th></th></tr>")
        for row in rows:
            score = (f"{_num(row.score)} / {_num(row.max_score)}"
                     if row.graded and row.score is not None else '')
            out.append(f"<tr><td>{_e(row.id)}</td><td>{_e(row.status)}</td>"
                       f"<td class='num'>{score}</td>"
                       f"<td class='num'>{_pct(row.percent) if row.graded else ''}</td>"
                       f"<td class='num'>{_duration(row.total_seconds())}</td>"
                       f"<td>{_results_link(row, submissions_href)}</td></tr>")
        out.append("</table></details>")

    out.append("<footer><p id='figure-check'>Figures loaded: <span id='images-loaded' "
               f"data-total='{len(figures)}'>(not checked: scripts are off)</span></p>"
               "</footer>")
    out.append(f"<script>{_SCRIPT}</script>")
    out.append("</body></html>\n")
    return '\n'.join(out)


def write_class_report(batch_dir, out_dir=None):
    """Write the class report of a batch folder; return the path of index.html.

    Args:
        batch_dir: the --out folder of a batch `autograder grade` (holds batch.json).
        out_dir: where to write (default batch_dir/report).

    Raises:
        ClassReportError: batch.json is missing or unreadable.
    """
    batch, rows = load_batch(batch_dir)
    out_dir = Path(out_dir) if out_dir else Path(batch_dir) / REPORT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
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


# ---------------------------------------------------------------------------
# Command line (optional: batch grading writes the report itself)

def add_parser(subparsers):
    """Register `class-report OUT` on an argparse subparsers object."""
    parser = subparsers.add_parser(
        'class-report', help="(re)write the class report of a batch grading folder",
        description="Write OUT/report/index.html and its figures from the results a batch "
                    "`autograder grade SUBMISSIONS_DIR --out OUT` left in OUT. The page opens "
                    "from disk in any browser. Exit 0 when written; 2 when OUT holds no "
                    "readable batch.json.")
    parser.add_argument('batch', metavar='OUT', help="the --out folder of a batch grading")
    parser.add_argument('-q', '--quiet', action='store_true', help="print errors only")
    parser.set_defaults(run=run)
    return parser


def run(args):
    try:
        page = write_class_report(args.batch)
    except ClassReportError as err:
        print(f"autograder class-report: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"autograder class-report: cannot write the report: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"class report: {page}")
    return 0

