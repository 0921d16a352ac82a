"""The results as a terminal table, Markdown and JSON."""
import json

from . import machine as machine_info

COLUMNS = ('section', 'benchmark', 'median', 'min', 'unit', 'baseline', 'baseline median',
           'baseline min', 'ratio', 'ratio of minima', 'target', 'met')


def number(x):
    if x is None:
        return '-'
    x = float(x)
    if x == 0:
        return '0'
    if abs(x) >= 100:
        return f'{x:,.0f}'
    if abs(x) >= 1:
        return f'{x:.2f}'
    return f'{x:.3g}'


def ratio_text(entry, key='ratio'):
    r = entry.get(key)
    if r is None:
        return '-'
    text = f'{r:.3g}'
    if 0 < r < 0.1 and entry['better'] == 'lower':
        text += f' (1/{1 / r:,.0f})'
    return text


def cells(entry):
    value, base = entry['value'] or {}, entry['baseline'] or {}
    target = entry['target']
    met = '-' if entry['met'] is None else ('yes' if entry['met'] else 'NO')
    if entry['status'] != 'ok':
        met = entry['status']
    return (entry['section'], entry['name'], number(value.get('median')),
            number(value.get('min')), entry['unit'], entry['baseline_name'] or '-',
            number(base.get('median')), number(base.get('min')), ratio_text(entry),
            ratio_text(entry, 'ratio_min'),
            f"{target['text']} ({'ratio of minima' if target.get('on') == 'min' else 'ratio'} "
            f"{target['op']} {target['value']:.3g})" if target else '-',
            met)


def text_table(rows):
    table = [COLUMNS] + [cells(r) for r in rows]
    widths = [min(max(len(str(line[i])) for line in table), 60) for i in range(len(COLUMNS))]
    out = []
    for k, line in enumerate(table):
        out.append('  '.join(str(c)[:widths[i]].ljust(widths[i]) for i, c in enumerate(line))
                   .rstrip())
        if k == 0:
            out.append('  '.join('-' * w for w in widths))
    return '\n'.join(out)


def _md(text):
    return str(text).replace('|', '\\|')


def markdown(document, title):
    rows = document['rows']
    lines = [f"# {title}", "",
             f"`{document['command']}` ({'quick smoke run: rough numbers' if document['quick'] else 'full run'}"
             f", {document['seconds']:.0f} s). Every ratio is value / baseline, both measured "
             "in the same command in separate processes, interleaved round by round: of the "
             "medians, and of the minima. Below 1 the solution is faster (or smaller), except "
             "for GFLOP/s and submissions per minute, where above 1 is better.", "",
             "## Machine", ""]
    busy = busy_warning(document)
    if busy:
        lines[-2:-2] = [busy, ""]
    lines += machine_info.lines(document['machine'])
    lines += ["", "## Results", "",
              '| ' + ' | '.join(c.capitalize() if i == 0 else c for i, c in
                                enumerate(COLUMNS)) + ' | notes |',
              '|' + '---|' * (len(COLUMNS) + 1)]
    for k, entry in enumerate(rows, 1):
        lines.append('| ' + ' | '.join(_md(c) for c in cells(entry)) + f' | [{k}] |')
    lines += ["", "## Notes", ""]
    for k, entry in enumerate(rows, 1):
        value = entry['value'] or {}
        runs = f" ({value['n']} measurements)" if value.get('n') else ''
        lines.append(f"{k}. {entry['name']}{runs}: {_md(entry['note']) or '-'}")
    lines.append("")
    return '\n'.join(lines)


# bench/RESULTS.md's hand-written reading of the numbers starts at this heading
# and is kept when a full run rewrites the table above it.
NARRATIVE = '## Reading these numbers'


def kept_narrative(path):
    """The hand-written part of a results page (from NARRATIVE on), or ''."""
    try:
        text = path.read_text()
    except OSError:
        return ''
    at = text.find('\n' + NARRATIVE)
    return '\n' + text[at + 1:] if at >= 0 else ''


BUSY_SHARE = 0.05  # other work above this share of the cores' time gets a warning


def busy_warning(document):
    """A warning when other processes used the CPU during a section: on 2 cores,
    a process with 2 BLAS threads slows down many times as soon as a second
    process wants a core. The benchmark's own processes do not count."""
    sections = document['machine'].get('other_work_by_section', {})
    busy = {name: share for name, (_, share) in sections.items() if share > BUSY_SHARE}
    if not busy:
        return None
    where = ', '.join(f"{name} {100 * share:.0f}%" for name, share in busy.items())
    return (f"**The machine was not idle**: other processes used {where} of the cores' time "
            f"during those sections. Rows with default BLAS threads there partly measure "
            f"contention; the 1-thread rows and the minima are the better guide.")


def write(document, out):
    out.mkdir(parents=True, exist_ok=True)
    (out / 'results.json').write_text(json.dumps(document, indent=1) + '\n')
    (out / 'results.md').write_text(markdown(document, 'Benchmark results'))
