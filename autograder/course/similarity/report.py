"""The similarity report: index.html, similarity.json and similarity.csv."""
import json
from dataclasses import asdict

from ... import html
from ...files import make_dir, write_text
from ...untrusted import name as shown
from ..gradebook import write_csv
from .regions import CONTEXT_LINES, compare_files

DEFAULT_TOP = 30
CSV_COLUMNS = ['rank', 'a', 'b', 'similarity', 'a_share', 'b_share', 'a_file', 'a_file_share',
               'b_file', 'b_file_share', 'matched', 'evidence', 'flagged', 'archive']


def pair_files(result, pair, with_text=False):
    """{'a': [FileMatch], 'b': [FileMatch]}: which files of each side carry the match."""
    da, db = result.documents[pair.a], result.documents[pair.b]
    k = result.settings.k
    return {'a': compare_files(da, db, k, with_text), 'b': compare_files(db, da, k, with_text)}


def _file_rows(matches):
    return [{'file': m.rel, 'own': m.own, 'matched': m.matched, 'share': round(m.share, 4),
             'carried_by': [{'file': rel, 'matched': count} for rel, count in m.partners]}
            for m in matches if m.matched]


def shown_pairs(result, top):
    """The flagged pairs the report shows side by side (all of them when top is 0)."""
    flagged = [p for p in result.pairs if p.flagged]
    return flagged[:top] if top else flagged


def settings_of(result):
    s = result.settings
    return {'threshold': result.threshold, 'k': s.k, 'scaffold_k': s.scaffold_k,
            'common_fraction': s.common_fraction, 'common_min': s.common_min,
            'common_count': result.common_count, 'common_kgrams': result.common,
            'file_min': s.file_min, 'match_min': s.match_min,
            'scaffold': [{'folder': shown(folder, 300), 'py_files': count}
                         for folder, count in result.scaffold]}


def render_html(result, top=DEFAULT_TOP, folder=''):
    """The report page (templates/similarity.html)."""
    entries = result.entries
    flagged = [p for p in result.pairs if p.flagged]
    side = []
    for rank, pair in enumerate(shown_pairs(result, top), 1):
        files = pair_files(result, pair, with_text=True)
        side.append({'rank': rank, 'pair': pair,
                     'columns': [{'id': pair.a, 'share': pair.a_share, 'files': files['a']},
                                 {'id': pair.b, 'share': pair.b_share, 'files': files['b']}]})
    ranks = {id(item['pair']): item['rank'] for item in side}
    listed = result.pairs[:max(top or len(flagged), len(flagged))]
    class_entries = [e for e in entries if not e.archive]
    return html.render(
        'similarity.html', title='Similarity report', folder=shown(folder), entries=entries,
        class_entries=class_entries, archive_entries=[e for e in entries if e.archive],
        compared=[e for e in class_entries if e.status in ('compared', 'nothing own')],
        nothing_own=[e for e in entries if e.status == 'nothing own'],
        not_compared=[e for e in entries if e.status in ('unreadable', 'empty')],
        runtime=[e for e in entries if e.runtime_code], pair_count=result.pair_count,
        flagged=flagged, listed=[(i, p, ranks.get(id(p))) for i, p in enumerate(listed, 1)],
        side=side, threshold=result.threshold, settings=result.settings,
        common=result.common, common_count=result.common_count, scaffold=result.scaffold,
        context=CONTEXT_LINES, problems=result.problems)


def write_report(result, out_dir, top=DEFAULT_TOP, folder=''):
    """Write index.html, similarity.json and similarity.csv; return their paths."""
    out_dir = make_dir(out_dir)
    flagged = sum(p.flagged for p in result.pairs)
    listed = result.pairs[:max(flagged, top or flagged)]
    shown_ids = {id(p) for p in shown_pairs(result, top)}
    pairs = []
    for rank, pair in enumerate(listed, 1):
        row = dict(rank=rank, **asdict(pair))
        if id(pair) in shown_ids:
            files = pair_files(result, pair)
            row['files'] = {'a': _file_rows(files['a']), 'b': _file_rows(files['b'])}
        pairs.append(row)
    document = {
        'settings': settings_of(result) | {'top': top, 'folder': shown(folder),
                                           'tool': 'autograder similarity'},
        'submissions': [{'id': e.id, 'path': e.path, 'archive': e.archive, 'status': e.status,
                         'files': e.files, 'own_kgrams': e.tokens, 'problems': e.problems,
                         'runtime_code': e.runtime_code} for e in result.entries],
        'problems': result.problems,
        'flagged': flagged,
        'pair_count': result.pair_count,
        'pairs': pairs,  # every flagged pair, and at least the `top` best-ranked ones
    }
    written = {'html': out_dir / 'index.html', 'json': out_dir / 'similarity.json',
               'csv': out_dir / 'similarity.csv'}
    write_text(written['json'], json.dumps(document, indent=2) + '\n')
    write_csv(written['csv'], CSV_COLUMNS,
              [dict(rank=i, **{key: (int(value) if isinstance(value, bool) else value)
                               for key, value in asdict(p).items()})
               for i, p in enumerate(result.pairs, 1)])
    write_text(written['html'], render_html(result, top, folder))
    return written
