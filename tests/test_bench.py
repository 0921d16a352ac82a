"""The benchmark suite (`python -m bench`): its quick mode end to end.

Only the shape of the outputs is checked: the rows every section must report,
positive numbers and ratios, the Markdown table. No timing is asserted: the
numbers depend on the machine and on whatever else it is running.
"""
import importlib.util
import json
import math
import sys

import pytest

from helpers import KIT, run

TORCH = importlib.util.find_spec('torch') is not None
STAGES = ('intake', 'workspace', 'data preparation', 'function tests', 'model tests',
          'accuracy training', 'report')
EXPECTED = [
    ('data', 'first load, train+test (kit loader)'),
    ('data', 'cached load, train+test (kit loader)'),
    ('training', 'TwoLayerNet epoch, numpy solutions (1 BLAS thread)'),
    ('training', 'SoftmaxRegression epoch, numpy solutions (1 BLAS thread)'),
    ('training', 'TwoLayerNet epoch vs its matrix products alone (1 BLAS thread)'),
    ('training', 'TwoLayerNet epoch, achieved matmul GFLOP/s (1 BLAS thread)'),
    ('training', 'SoftmaxRegression epoch vs its matrix products alone (1 BLAS thread)'),
    ('training', 'SoftmaxRegression epoch, achieved matmul GFLOP/s (1 BLAS thread)'),
    ('training', 'sgemm peak (1024x1024, 1 BLAS thread)'),
    ('grading', 'one submission, total'),
    *[('grading', f'one submission, stage: {stage}') for stage in STAGES],
    ('grading', 'batch -j 1, submissions per minute'),
    ('grading', 'batch -j 2, submissions per minute'),
    ('grading', 'batch -j 1, 2 BLAS threads vs 1, submissions per minute'),
    ('memory', 'training run peak RSS (train.py config_twolayer, 1 epoch)'),
    ('memory', 'grading worker peak RSS (batch -j 2)'),
] + ([('memory', f'{m} training worker peak RSS, numpy vs PyTorch')
      for m in ('TwoLayerNet', 'SoftmaxRegression')] if TORCH else [])
# Rows that may be skipped, and the word their note must contain.
MAY_SKIP = {
    'TwoLayerNet epoch, numpy solutions (1 BLAS thread)': 'PyTorch',
    'SoftmaxRegression epoch, numpy solutions (1 BLAS thread)': 'PyTorch',
    'one submission, stage: accuracy training': 'no test of this stage ran',
    'one submission, stage: data preparation': 'no test of this stage ran',
}


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench-out')
    committed = KIT / 'bench' / 'RESULTS.md'
    before = committed.read_bytes() if committed.exists() else None
    result = run([sys.executable, '-m', 'bench', '--quick', '--out', str(out)], timeout=900)
    after = committed.read_bytes() if committed.exists() else None
    return result, out, before == after


@pytest.mark.usefixtures('mnist')
def test_quick_run_succeeds_and_leaves_the_committed_table_alone(quick_run):
    result, out, committed_unchanged = quick_run
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert (out / 'results.json').is_file() and (out / 'results.md').is_file()
    assert committed_unchanged, "--quick must not rewrite bench/RESULTS.md"
    assert 'ratio' in result.stdout.splitlines()[0]


@pytest.mark.usefixtures('mnist')
def test_results_json_has_every_row_with_positive_numbers(quick_run):
    _, out, _ = quick_run
    document = json.loads((out / 'results.json').read_text())
    assert document['quick'] is True
    assert {'cpu', 'cores', 'numpy', 'blas', 'python', 'date'} <= set(document['machine'])
    others = document['machine']['other_work_by_section']
    assert set(others) == {'data', 'training', 'grading', 'memory'}
    assert all(seconds >= 0 and 0 <= share for seconds, share in others.values()), others
    rows = {(r['section'], r['name']): r for r in document['rows']}
    assert list(rows) == EXPECTED, sorted(set(rows) ^ set(EXPECTED))
    for (section, name), entry in rows.items():
        where = f"{section}: {name}"
        if entry['status'] == 'skipped':
            assert MAY_SKIP.get(name, '\0') in entry['note'], f"{where} skipped: {entry['note']}"
            continue
        assert entry['status'] == 'ok', f"{where}: {entry['status']}: {entry['note']}"
        value, baseline = entry['value'], entry['baseline']
        assert value['n'] >= 1 and len(value['values']) == value['n'], where
        assert all(positive(v) for v in value['values']), where
        assert value['min'] <= value['median'], where
        assert baseline and positive(baseline['median']) and positive(baseline['min']), where
        assert positive(entry['ratio']) and positive(entry['ratio_min']), where
        assert entry['baseline_name'] and entry['note'], where
        if entry['target']:
            assert entry['target']['op'] in ('<=', '>=') and positive(entry['target']['value'])
            assert isinstance(entry['met'], bool), where


@pytest.mark.usefixtures('mnist')
def test_results_markdown_is_one_table_row_per_result(quick_run):
    _, out, _ = quick_run
    document = json.loads((out / 'results.json').read_text())
    text = (out / 'results.md').read_text()
    assert text.startswith('# Benchmark results')
    assert '## Machine' in text and '## Notes' in text
    table = [line for line in text.splitlines() if line.startswith('|')]
    header, rule, body = table[0], table[1], table[2:]
    assert 'ratio' in header and set(rule) <= set('|-')
    assert len(body) == len(document['rows'])
    columns = header.count('|')
    for line, entry in zip(body, document['rows']):
        assert entry['name'] in line and line.count('|') - line.count('\\|') == columns


def test_help_lists_the_options():
    result = run([sys.executable, '-m', 'bench', '--help'], timeout=60)
    assert result.returncode == 0
    for option in ('--quick', '--out', '--only', '--rounds'):
        assert option in result.stdout
