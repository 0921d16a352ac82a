"""The token stream: what a disguise changes leaves it as it was; anything at all is read."""
import random
import textwrap

import pytest

from autograder.course.similarity import fingerprints
from autograder.course.similarity.tokens import normalise

CODE = textwrap.dedent('''
    import numpy as np


    def softmax(scores):
        """Row-wise softmax."""
        # shift for stability
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        exps = np.exp(shifted)
        return exps / exps.sum(axis=1, keepdims=True)
''')


def stream(text):
    return ' '.join(normalise(text).text)


def test_names_bound_in_the_file_become_placeholders_the_api_stays():
    out = stream(CODE)
    assert out.startswith('import numpy as V ; def V ( V ) : ;')
    assert 'V . max ( V , axis = N , keepdims = True )' in out
    assert '. exp (' in out and '. sum (' in out  # what the program calls is kept
    assert 'shifted' not in out and 'softmax' not in out and 'scores' not in out


@pytest.mark.parametrize('disguised', [
    CODE.replace('shifted', 'z').replace('exps', 'e').replace('scores', 'x')
        .replace('softmax', 'soft').replace('as np', 'as numpy_').replace('np.', 'numpy_.'),
    CODE.replace('    ', '  ').replace(', ', ',').replace(' = ', '=').replace('\n\n', '\n'),
    CODE.replace('# shift for stability', '# my own idea').replace('"""Row-wise softmax."""',
                                                                   "'''Written by me.'''"),
    CODE.replace('exps = np.exp(shifted)', 'exps = np.exp(\n        shifted\n    )  # x'),
    CODE.replace('        shifted = ', '        ("a string statement")\n        shifted = '),
])
def test_disguises_leave_the_stream_unchanged(disguised):
    compile(disguised, 'x', 'exec')
    assert stream(disguised) == stream(CODE)


def test_a_renamed_variable_that_shares_a_name_with_an_attribute_or_keyword():
    code = ("def f(x):\n    shape = x.shape\n    out = np.zeros(shape)\n"
            "    np.exp(x, out=out)\n    return out\n")
    renamed = code.replace('shape =', 's =').replace('(shape)', '(s)').replace(
        'out =', 'buf =').replace('=out)', '=buf)').replace('return out', 'return buf')
    assert stream(renamed) == stream(code)
    assert '. shape' in stream(code) and 'out = V' in stream(code)


def test_what_a_program_does_differently_shows():
    assert stream(CODE.replace('np.max', 'np.min')) != stream(CODE)
    assert stream(CODE.replace('axis=1', 'axis=0')) == stream(CODE)  # numbers are N
    assert stream(CODE.replace('exps.sum', 'exps.mean')) != stream(CODE)


def test_strings_semicolons_and_fstrings():
    out = stream("x = 'a' 'b'\ny = f'{x}!'; z = 3;\n")
    assert out == 'V = S ; V = S ; V = N ;'
    kept = ' '.join(normalise("x = 'a' \"b\"\ny = 1e-3 + 0.001\n", literals=True).text)
    assert kept == "V = 'ab' ; V = 0.001 + 0.001 ;"


def test_offsets_point_into_the_text():
    tokens = normalise(CODE)
    assert len(tokens) == len(tokens.ids) == len(tokens.raw_ids) == len(tokens.starts)
    pieces = [CODE[s:e] for s, e in zip(tokens.starts, tokens.ends)]
    assert pieces[:4] == ['import', 'numpy', 'as', 'np']
    assert 'keepdims' in pieces and 'shift for stability' not in ''.join(pieces)


def test_raw_ids_keep_the_names():
    a, b = normalise('x = 1\ny = x + 1\n'), normalise('u = 1\nv = u + 2\n')
    assert list(a.ids) == list(b.ids) and list(a.raw_ids) != list(b.raw_ids)


@pytest.mark.parametrize('text', [
    "def f(:\n    x = 'abc\n    y = (1,\n",       # unterminated string and bracket
    "if x:\n        a = 1\n    b = 2\nc = 3\n",     # inconsistent dedent
    "x = (" * 500 + "\n",                              # deep nesting
    "\x00\x01 def \u202e class ::: $ ? ! `\n",        # junk
    "'''never closed\n" * 3,
])
def test_broken_python_still_gets_a_stream(text):
    tokens = normalise(text)
    assert len(tokens) > 0 and all(s <= e for s, e in zip(tokens.starts, tokens.ends))
    # no syntax tree says which names are bound: every name is a placeholder
    assert all(t in ('V', 'N', 'S', 'def', 'class', 'if') or not t.isidentifier()
               for t in tokens.text), tokens.text


def test_random_bytes_never_raise():
    rng = random.Random(11)
    alphabet = "abc xyz_0123 ()[]{}:;,.=+-*/'\"#\\\n\t@!$?~`"
    for _ in range(400):
        text = ''.join(rng.choice(alphabet) for _ in range(rng.randrange(120)))
        tokens = normalise(text)
        assert len(tokens.ids) == len(tokens.text)


def test_kgram_hashes_and_windows():
    ids = normalise(CODE).ids
    hashes = fingerprints.kgram_hashes(ids, 5)
    assert len(hashes) == len(ids) - 4
    assert hashes[0] == fingerprints.kgram_hashes(ids[:5], 5)[0]
    assert len(fingerprints.kgram_hashes(ids[:3], 5)) == 0
    masked = [False] * 10
    masked[4] = True
    free = fingerprints.free_windows(masked, 3)
    assert list(free) == [True, True, False, False, False, True, True, True]
    assert list(fingerprints.covered_tokens([0, 5], 9, 2)) == \
        [True, True, False, False, False, True, True, False, False]
