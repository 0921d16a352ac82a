"""Hostile answers: whatever bytes a probe returns, the judge decodes within bounds and never raises.

Each case is what a student's code could write on the payload descriptor in
place of a real answer (it runs in the same process as the probe).
"""
import io
import json
import resource
import struct
import time
import zipfile

import numpy as np
import pytest

from autograder.catalogue import load_catalogue
from autograder.catalogue.types import Answer, Context
from autograder.grading.decode import decode
from autograder.untrusted import csv_cell, printable, scrub_message


def npz(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def with_meta(meta_text, **arrays):
    return npz(__meta__=np.frombuffer(meta_text.encode(), dtype=np.uint8), **arrays)


def zip_with(members, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy_header(descr, shape, fortran=False, version=1, length=None):
    header = repr({'descr': descr, 'fortran_order': fortran, 'shape': shape}).encode()
    header += b' ' * (16 - (len(header) + 11) % 16) + b'\n'
    size = len(header) if length is None else length
    prefix = b'\x93NUMPY' + bytes([version, 0])
    prefix += struct.pack('<H', size) if version == 1 else struct.pack('<I', size)
    return prefix + header


HOSTILE = {
    'not a zip': b'hello',
    'empty': b'',
    'member without NPY magic': zip_with({'out.npy': b'not an array at all'}),
    'object dtype (pickle)': zip_with({'out.npy': npy_header('|O', (3,)) + b'\0' * 24}),
    'structured dtype': zip_with({'out.npy': npy_header("[('a', '<f8')]", (3,))}),
    'too many dimensions': zip_with({'out.npy': npy_header('<f8', (1,) * 9)}),
    'negative shape': zip_with({'out.npy': npy_header('<f8', (-5,))}),
    'declares 768 MiB, holds 1 KB': zip_with(
        {'out.npy': npy_header('<f8', (96 * 2**20,)) + b'\0' * 1024}, zipfile.ZIP_DEFLATED),
    'deflate bomb within a declared size': zip_with(
        {f'm{i}.npy': npy_header('<f8', (2**24,)) + b'\0' * 2**27 for i in range(3)},
        zipfile.ZIP_DEFLATED),
    'header length of 4 GB': zip_with({'out.npy': npy_header('<f8', (3,), version=2,
                                                              length=2**32 - 1)}),
    'header cut short': zip_with({'out.npy': npy_header('<f8', (3,))[:20]}),
    'data cut short': zip_with({'out.npy': npy_header('<f8', (100,)) + b'\0' * 8}),
    'bad member name': zip_with({'../../evil.npy': npy_header('<f8', (1,)) + b'\0' * 8}),
    'ten thousand members': zip_with({f'm{i}.npy': npy_header('<f8', (1,)) + b'\0' * 8
                                      for i in range(10000)}),
    'meta nested 100,000 deep': with_meta('[' * 100000 + ']' * 100000),
    'meta not UTF-8': npz(__meta__=np.frombuffer(b'\xff\xfe{}', dtype=np.uint8)),
    'meta not JSON': with_meta('{"a": '),
    'meta a list': with_meta('[1, 2, 3]'),
    'meta huge': with_meta('"' + 'x' * (2**20) + '"'),
    'meta as float array': npz(__meta__=np.zeros(5)),
    'meta with NaN': with_meta('{"x": NaN, "lines": Infinity}'),
    'error meta not a dict': with_meta('{"error": [1, 2]}'),
    'error with escape sequences': with_meta(json.dumps(
        {'error': {'type': '\x1b[2J', 'message': '\x1b[32mPASS\x1b[0m ' * 1000,
                   'where': ['\x1b[H'] * 50}})),
}


@pytest.mark.parametrize('case', list(HOSTILE))
def test_a_hostile_answer_is_a_plain_error_within_bounds(case):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    answer = decode(HOSTILE[case], budget=16 * 2**20)
    assert isinstance(answer, Answer)
    assert time.monotonic() - start < 10
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB
    assert grown < 200 * 1024, f"{case}: decoding grew the judge by {grown} KiB"
    if answer.error is not None:
        text = str(answer.error)
        assert len(text) < 1000 and '\x1b' not in text
    for value in answer.arrays.values():
        assert value.dtype == np.float64


def test_a_normal_answer_decodes_to_float64():
    answer = decode(with_meta('{"shapes": {"a": [2]}}', out=np.arange(3, dtype=np.int32)))
    assert answer.error is None and answer.meta == {'shapes': {'a': [2]}}
    assert answer.arrays['out'].dtype == np.float64 and answer.arrays['out'].tolist() == [0, 1, 2]


def test_the_answer_budget_is_enforced():
    big = npz(out=np.zeros(2**20))  # 8 MiB
    assert decode(big, budget=16 * 2**20).error is None
    assert 'larger than' in decode(big, budget=2**20).error


class Anything(dict):
    """A trusted reference answer that has whatever key a check asks for."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        return self.make()


@pytest.mark.parametrize('test_id', [t.id for t in load_catalogue().tests])
def test_every_check_survives_malformed_answers(test_id):
    """Plausible-but-wrong answers (wrong types in meta, odd shapes): a verdict, never a raise.

    The judge also catches whatever a check raises; this makes sure the
    checks themselves hold on the answers a forger would try first.
    """
    catalogue = load_catalogue()
    test = catalogue.by_id[test_id]
    ctx = Context(b'secret', 'digest')
    shapes = [(), (0,), (3,), (2, 2), (1000, 1000)]
    metas = [{}, {'figures': [{'axes': [{'lines': 10**300, 'box': 'x'}]}]},
             {'lengths': [1, 2], 'widths': 'x'}, {'figures': 'x'}, {'takes_save_path': True}]
    for shape in shapes:
        for meta in metas:
            arrays = {k: np.zeros(shape) for k in
                      ('out', 'loss1', 'acc1', 'loss2', 'acc2', 'g1:W1', 'g2:W1', 'w:W1',
                       'plain:W1', 'step:W1', 'g:W1', 'train_label', 'png0', 'saved',
                       'sizes0', 'label_sizes0', 'label0', 'data0', 'y0_0_0', 'accuracy',
                       'recall')}
            # The same answers, and the reference's on the second call only
            # (g2 right, g1 wrong: a case a feedback branch once left empty).
            second = dict(arrays, **{k: np.ones((3,)) for k in arrays if k.startswith('g2:')})
            ref = [Answer(Anything(lambda: np.ones((3,))), Anything(lambda: Anything(int)))]
            for answer in (arrays, second):
                got = [Answer(answer, meta)] * 2
                try:
                    verdict = test.check(got, ref, ctx)
                except (KeyError, ValueError, IndexError, TypeError) as err:
                    pytest.fail(f"{test_id} raised {type(err).__name__} on shape {shape}, "
                                f"meta {meta}: {err}")
                assert 0.0 <= verdict.fraction <= 1.0
                assert isinstance(verdict.message, str) and verdict.message


def test_printable_strips_control_characters_and_surrogates():
    assert printable('\x1b[2J\x1b[32mPASS') == '\\x1b[2J\\x1b[32mPASS'
    assert printable('ok\nline') == 'ok\nline' and printable('ok\nx', newlines=False) == 'ok\\x0ax'
    assert printable('bob\udce9') == 'bob\\udce9'
    assert printable('\u202eevil') == '\\u202eevil'
    assert printable('x' * 100, limit=10) == 'xxxxxx ...'


def test_csv_cells_never_evaluate():
    for formula in ('=HYPERLINK("http://x")', '+SUM(A1)', '-1+1', '@SUM(A1)', '\tx', '\rx'):
        cell = csv_cell(formula)
        assert cell.startswith("'") or cell.startswith('\\x'), cell  # quoted, or escaped
    assert csv_cell(-3.5) == -3.5 and csv_cell('alice') == 'alice' and csv_cell(None) == ''


def test_scrubbed_messages_keep_words_and_shapes_not_numbers():
    message = ("shapes (7,11) and (5,3) not aligned: [0.123456 -1.5e+03 2.5] value 31415926 "
               "at 0.25")
    scrubbed = scrub_message(message)
    assert '(7,11)' in scrubbed and '(5,3)' in scrubbed and 'not aligned' in scrubbed
    for number in ('0.123456', '1.5e+03', '31415926', '0.25'):
        assert number not in scrubbed


def test_hidden_inputs_are_drawn_per_submission_and_secret():
    a1 = Context(b'secret', 'digest-a').rng('t').normal(size=4)
    assert np.array_equal(a1, Context(b'secret', 'digest-a').rng('t').normal(size=4))
    assert not np.array_equal(a1, Context(b'secret', 'digest-b').rng('t').normal(size=4))
    assert not np.array_equal(a1, Context(b'other', 'digest-a').rng('t').normal(size=4))
    assert not np.array_equal(a1, Context(b'secret', 'digest-a').rng('u').normal(size=4))


def test_the_accuracy_inputs_tell_a_count_from_a_fraction_in_every_draw():
    """metrics.accuracy's hidden rows are right in 1..N-1 rows: chance-level rows alone had
    no hit in 28% of draws, and a compute_accuracy returning the count then passed."""
    from autograder.catalogue.functions import make_inputs
    recipe = load_catalogue().by_id['metrics.accuracy'].p['inputs']
    assert recipe['mixed']
    for digest in range(500):
        inputs = make_inputs(recipe, Context(b'secret', f'digest-{digest}').rng('inputs'))
        prob, y = inputs['prob'], inputs['y']
        hits = int((prob.argmax(axis=1) == y).sum())
        assert 0 < hits < len(y), digest
        assert np.allclose(prob.sum(axis=1), 1) and (prob >= 0).all()
