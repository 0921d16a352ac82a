"""Submitted bytes to the text Python itself would run.

A `.py` file is not necessarily UTF-8: PEP 263 lets its first two lines name
any text codec (`# -*- coding: utf-7 -*-`), and a UTF-8 byte-order mark
means UTF-8. Python decodes the whole file with that codec before it reads a
single token, so code can hide from a reader that assumes UTF-8: in UTF-7,
`#+AAo-x = 1` is a comment to that reader and an assignment to Python.
Comparing what Python runs means decoding the way Python does.

decode() follows tokenize.detect_encoding: a BOM, then a coding cookie on
line 1 or 2 (line 2 only when line 1 is blank or a comment). It never raises:
a cookie naming no codec, a codec that is not a text encoding (rot13, base64)
or bytes the codec rejects are reported as a problem, and the text falls back
to UTF-8 with undecodable bytes replaced (what a reader would see; Python
itself would refuse to run such a file). Decoded text is capped.
"""
import codecs
import io
import tokenize
import warnings
from dataclasses import dataclass

MAX_CHARS = 4 * 2**20  # decoded text kept per file (input files are 64 KiB at most)


@dataclass(frozen=True)
class Source:
    """A decoded file.

    Attributes:
        text: str, newlines normalised to '\\n' (as Python's reader does),
            at most MAX_CHARS characters.
        encoding: the codec used ('utf-8' unless a BOM or cookie said otherwise).
        problem: why the file was not decoded as Python would, or ''.
    """
    text: str
    encoding: str = 'utf-8'
    problem: str = ''


def _declared(data):
    """(codec name, problem) that Python would use for `data`."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as err:  # bad cookie, unknown codec, BOM against cookie
        if 'missing encoding declaration' in str(err.msg):
            return 'utf-8', "not valid UTF-8 (and no coding declaration)"
        return 'utf-8', f"its coding declaration is not valid ({err.msg or err})"
    except Exception as err:  # anything else detect_encoding may meet on garbage
        return 'utf-8', f"its coding declaration cannot be read ({type(err).__name__})"
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return 'utf-8', f"it declares the unknown encoding {encoding!r}"
    if not getattr(info, '_is_text_encoding', True):
        return 'utf-8', f"it declares {encoding!r}, which is not a text encoding"
    return info.name, ''


def decode(data):
    """Source of one file's bytes; never raises.

    Args:
        data: bytes as submitted (bounded by intake's file limit).

    Returns:
        Source.
    """
    if not isinstance(data, (bytes, bytearray)):
        data = bytes(data or b'')
    encoding, problem = _declared(bytes(data))
    text = None
    if not problem:
        try:
            with warnings.catch_warnings():  # unicode_escape warns on odd escapes
                warnings.simplefilter('ignore')
                text = codecs.decode(bytes(data), encoding)
        except Exception as err:  # UnicodeDecodeError, codec bugs on hostile bytes
            problem = f"not valid {encoding} ({type(err).__name__})"
    if text is None:
        encoding = 'utf-8'
        text = bytes(data).decode('utf-8', errors='replace')
        problem = problem or 'not valid UTF-8'
        problem += "; shown as UTF-8 with undecodable bytes replaced"
    if text.startswith('\ufeff'):
        text = text[1:]  # a BOM left by a codec that keeps it (utf-16, utf-32)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        problem = (problem + '; ' if problem else '') + f"cut to {MAX_CHARS:,} characters"
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    return Source(text, encoding, problem)
