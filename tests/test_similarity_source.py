"""Similarity reads a .py file the way Python does: PEP 263 cookies and BOMs, never raising."""
import codecs
import random

import pytest

from autograder.course.similarity.source import MAX_CHARS, decode


def run(data):
    """What Python itself makes of the bytes: the names the module defines."""
    namespace = {}
    exec(compile(data, 'submitted.py', 'exec'), namespace)
    return {k: v for k, v in namespace.items() if not k.startswith('__')}


def test_plain_utf8_and_bom():
    assert decode(b'x = 1\n') == decode(b'x = 1\n')
    source = decode('x = "é"\n'.encode())
    assert source.text == 'x = "é"\n' and source.encoding == 'utf-8' and not source.problem
    bom = decode(codecs.BOM_UTF8 + b'y = 2\n')
    assert bom.text == 'y = 2\n' and not bom.problem


def test_utf7_cookie_decodes_what_python_runs():
    data = b'# -*- coding: utf-7 -*-\n#+AAo-x = 1 +- 2+AAo-'
    assert run(data) == {'x': 3}
    source = decode(data)
    assert source.encoding == 'utf-7' and not source.problem
    assert 'x = 1 + 2' in source.text.splitlines()  # a line of code, not inside a comment


@pytest.mark.parametrize('codec', ['latin-1', 'cp1252', 'utf-16', 'shift_jis'])
def test_other_declared_codecs(codec):
    text = f'# coding: {codec}\nname = "Zoë"\n' if codec != 'shift_jis' else \
        '# coding: shift_jis\nname = "日本"\n'
    data = text.encode(codec)
    source = decode(data)
    if codec == 'utf-16':  # Python refuses it (the cookie must be ASCII-compatible)
        assert source.problem
        return
    assert not source.problem and source.text == text
    assert run(data)['name'] == text.split('"')[1]


def test_cookie_on_the_second_line_only_after_a_comment_or_blank():
    assert decode(b'#!/usr/bin/env python\n# coding: utf-7\nx = 1 +- 1\n').text.endswith(
        'x = 1 + 1\n')
    # on line 2 after code, a cookie is just a comment: UTF-8 it stays
    assert decode(b'x = 1\n# coding: utf-7\ny = 1 +- 1\n').text.endswith('y = 1 +- 1\n')


@pytest.mark.parametrize('data, words', [
    (b'# coding: rot13\nk = 1\n', 'not a text encoding'),
    (b'# coding: no-such-codec\nk = 1\n', 'not valid'),
    (codecs.BOM_UTF8 + b'# coding: latin-1\nk = 1\n', 'not valid'),
    (b'k = "\xff\xfe"\n', 'not valid UTF-8'),
    (b'# coding: ascii\nk = "\xe9"\n', 'not valid ascii'),
])
def test_what_python_refuses_is_read_as_utf8_and_said(data, words):
    source = decode(data)
    assert words in source.problem and 'replaced' in source.problem
    assert source.encoding == 'utf-8' and 'k = ' in source.text


def test_garbage_never_raises_and_is_bounded():
    rng = random.Random(7)
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        if rng.random() < 0.5:
            data = b'# coding: ' + rng.choice([b'utf-7', b'utf-16', b'punycode', b'idna',
                                                b'unicode_escape', b'cp932']) + b'\n' + data
        source = decode(data)
        assert isinstance(source.text, str) and '\r' not in source.text
    big = decode(b'a' * (MAX_CHARS + 10))
    assert len(big.text) == MAX_CHARS and 'cut to' in big.problem
    assert decode(b'').text == '' and decode(None).text == ''


def test_newlines_are_normalised():
    assert decode(b'a = 1\r\nb = 2\rc = 3\n').text == 'a = 1\nb = 2\nc = 3\n'
