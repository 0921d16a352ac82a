"""Read one answer of a sandboxed probe: hostile bytes in, plain float64 arrays out.

An answer is an .npz archive (a zip of .npy members) that student code could
have written itself. Every size is checked before anything is allocated:

- the archive's members are counted and their names checked;
- each member's NPY header is parsed by this module (bounded length, a plain
  numeric dtype, at most 4 dimensions), and the size it declares counts
  against the answer's budget before a byte of data is read;
- members are read with a bounded read, so a compressed bomb stops at the
  size its header declared;
- '__meta__' (UTF-8 JSON of non-array facts) is bounded in length and in
  nesting depth before it is parsed.

decode() never raises: anything malformed becomes Answer.error, a plain
sentence for the student's feedback.
"""
import ast
import builtins
import io
import json
import re
import zipfile

import numpy as np

from ..catalogue.types import Answer
from ..untrusted import printable, scrub_message

MAGIC = b'\x93NUMPY'
MAX_MEMBERS = 256
MAX_HEADER = 4096
MAX_DIMS = 4
MAX_META_BYTES = 256 * 1024
MAX_META_DEPTH = 12
_NAME = re.compile(r'^[A-Za-z0-9_:.\-]{1,64}$')
_DESCR = re.compile(r'^[<>|=]?[biuf][1248]$')


class Malformed(ValueError):
    """The answer breaks a rule of its format; the message says which."""


def _parse_header(stream):
    """(dtype, shape, fortran) from an .npy member's header."""
    magic = stream.read(8)
    if len(magic) != 8 or magic[:6] != MAGIC:
        raise Malformed("a member is not in NPY format")
    major = magic[6]
    if major == 1:
        raw = stream.read(2)
        length = int.from_bytes(raw, 'little') if len(raw) == 2 else -1
    elif major in (2, 3):
        raw = stream.read(4)
        length = int.from_bytes(raw, 'little') if len(raw) == 4 else -1
    else:
        raise Malformed(f"NPY version {major} is not supported")
    if not 0 < length <= MAX_HEADER:
        raise Malformed("an NPY header is too long")
    text = stream.read(length)
    if len(text) != length:
        raise Malformed("an NPY header is cut short")
    try:
        header = ast.literal_eval(text.decode('latin-1').strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError):
        raise Malformed("an NPY header does not parse") from None
    if not isinstance(header, dict) or set(header) != {'descr', 'fortran_order', 'shape'}:
        raise Malformed("an NPY header has the wrong keys")
    descr, fortran, shape = header['descr'], header['fortran_order'], header['shape']
    if not isinstance(descr, str) or not _DESCR.match(descr):
        raise Malformed(f"an array has data type {str(descr)[:20]!r}, not plain numbers")
    if not isinstance(fortran, bool):
        raise Malformed("an NPY header is malformed")
    if not isinstance(shape, tuple) or len(shape) > MAX_DIMS or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**31 for n in shape):
        raise Malformed("an array has an unsupported shape")
    return np.dtype(descr), shape, fortran


def _depth(text):
    """The deepest nesting of [ and { in JSON text (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == '\\':
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in '[{':
            depth += 1
            deepest = max(deepest, depth)
        elif char in ']}':
            depth -= 1
    return deepest


def _meta(raw):
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_META_BYTES:
        raise Malformed("the answer's description is malformed or too long")
    try:
        text = raw.tobytes().decode('utf-8')
    except UnicodeDecodeError:
        raise Malformed("the answer's description is not UTF-8") from None
    if _depth(text) > MAX_META_DEPTH:
        raise Malformed("the answer's description is nested too deeply")
    try:
        meta = json.loads(text, parse_constant=lambda name: None)
    except (ValueError, RecursionError):
        raise Malformed("the answer's description is not valid JSON") from None
    if not isinstance(meta, dict):
        raise Malformed("the answer's description is not a mapping")
    return meta


def student_error(meta, secret=None):
    """The feedback line for an exception the code under test raised.

    The probe reports the exception's type, message and the frames in the
    student's own files; the message is scrubbed of array contents (it may
    hold a hidden input), everything is capped. With `secret` (the package's
    submitted files, for a run that saw the secret training split) nothing the
    code chose goes out: no message, the type only when it is one of Python's
    own, the frames as file:line of submitted files only.
    """
    error = meta.get('error')
    if not isinstance(error, dict):
        return "the code under test failed"
    kind = printable(error.get('type') or 'Exception', limit=60, newlines=False)
    message = scrub_message(error.get('message') or '')
    if secret is not None:
        return _without_secrets(kind, error, secret)
    if error.get('kind') == 'returned':  # the probe could not use a returned value
        text = message or f"{kind} on the returned value"
    elif kind == 'SystemExit':
        text = f"the code called sys.exit({message})"
    else:
        text = f"{kind}: {message}" if message else kind
    where = error.get('where') if isinstance(error.get('where'), list) else []
    frames = [printable(w, limit=120, newlines=False) for w in where[-3:] if isinstance(w, str)]
    if frames:
        text += ' (at ' + ' <- '.join(reversed(frames)) + ')'
    return text


# A frame of the probe's 'where': "models/two_layer_nn.py:42 in forward".
_PLACE = re.compile(r'^([A-Za-z0-9_./-]{1,80}\.py):(\d{1,6})(?: in .*)?$')
# numpy's own messages about shapes, numbers masked as '#': the one kind of
# message a run that saw secret data may show (the usual bug there is a shape).
_SHAPE = r'\((?:#(?:, ?#)*,?)?\)'
_NUMPY_MESSAGES = [re.compile(pattern) for pattern in (
    rf'operands could not be broadcast together with shapes(?: {_SHAPE})+ ?',
    rf"non-broadcastable output operand with shape {_SHAPE} doesn't match the broadcast "
    rf"shape {_SHAPE}",
    rf'shapes {_SHAPE} and {_SHAPE} not aligned: # \(dim #\) != # \(dim #\)',
    r'matmul: Input operand # has a mismatch in its core dimension #, with gufunc signature '
    r'\(n\?,k\),\(k,m\?\)->\(n\?,m\?\) \(size # is different from #\)',
    rf'cannot reshape array of size # into shape {_SHAPE}',
    r'index # is out of bounds for axis # with size #',
    rf'could not broadcast input array from shape {_SHAPE} into shape {_SHAPE}',
)]
# The sizes of this assignment's training: the only numbers such a message keeps.
_KNOWN_SIZES = {'0', '1', '2', '10', '64', '128', '784', '48000'}


def _numpy_message(message):
    """A numpy shape message with unknown numbers masked, or None if it is no such message."""
    if not isinstance(message, str) or len(message) > 400:
        return None
    masked = re.sub(r'\d+', '#', message)
    if not any(p.fullmatch(masked) for p in _NUMPY_MESSAGES):
        return None
    return re.sub(r'\d+', lambda m: m.group() if m.group() in _KNOWN_SIZES else '#', message)


def _without_secrets(kind, error, files):
    """student_error's line for a run that saw secret data: only what carries none of it."""
    builtin = isinstance(getattr(builtins, kind, None), type) and \
        issubclass(getattr(builtins, kind), BaseException)
    shapes = _numpy_message(error.get('message')) if builtin else None
    text = (f"{kind}: {shapes}" if shapes else f"{kind} raised") if builtin else \
        "an exception of the code's own class was raised"
    where = error.get('where') if isinstance(error.get('where'), list) else []
    frames = []
    for entry in where[-3:]:
        place = _PLACE.match(entry) if isinstance(entry, str) else None
        if place and place.group(1) in files:
            frames.append(f"{place.group(1)}:{place.group(2)}")
    if frames:
        text += ' (at ' + ' <- '.join(reversed(frames)) + ')'
    if shapes:
        return text
    return text + ("; its message is not shown: this run trained on the grader's secret data, "
                   "and feedback never carries what the code could have taken from it")


def read_npz(data, budget):
    """{name: ndarray} from .npz bytes, allocating at most `budget` bytes of array data.

    Raises:
        Malformed: anything about the archive or a member breaks a rule.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as err:  # zipfile raises many kinds on damaged input
        raise Malformed(f"the answer is not a readable archive ({type(err).__name__})") \
            from None
    if len(infos) > MAX_MEMBERS:
        raise Malformed(f"the answer has {len(infos)} members; at most {MAX_MEMBERS}")
    arrays, used = {}, 0
    for info in infos:
        name = info.filename[:-4] if info.filename.endswith('.npy') else info.filename
        if not _NAME.match(name) or name in arrays:
            raise Malformed("the answer has a member with a bad or repeated name")
        try:
            with archive.open(info) as stream:
                dtype, shape, fortran = _parse_header(stream)
                count = 1
                for n in shape:
                    count *= n
                size = count * dtype.itemsize
                used += size
                if used > budget:
                    raise Malformed(f"the answer is larger than the {budget:,} bytes its test "
                                    f"allows")
                raw = stream.read(size)
        except Malformed:
            raise
        except Exception as err:  # a damaged or unsupported member
            raise Malformed(f"a member of the answer cannot be read ({type(err).__name__})") \
                from None
        if len(raw) != size:
            raise Malformed("a member of the answer is shorter than its header says")
        arrays[name] = np.frombuffer(raw, dtype=dtype).reshape(shape,
                                                             order='F' if fortran else 'C')
    return arrays


def decode(frame, budget=16 * 2**20, secret=None):
    """An Answer from one answer frame (untrusted bytes); never raises.

    Args:
        frame: the bytes the probe wrote.
        budget: the most bytes of array data the answer may hold (its test's
            declared size); float64 conversion may double it.
        secret: for a run that saw secret data, the package's submitted files
            (relative paths): an error's words stay out of the feedback
            (student_error). None otherwise.

    Returns:
        Answer: float64 arrays and meta; or error set when the code under test
        raised (meta 'error') or the answer is malformed.
    """
    try:
        raw = read_npz(frame, budget)
        meta = _meta(raw.pop('__meta__')) if '__meta__' in raw else {}
        if 'error' in meta:
            return Answer({}, meta, error=student_error(meta, secret))
        arrays = {}
        for key, value in raw.items():
            with np.errstate(all='ignore'):
                arrays[key] = value.astype(np.float64)
        return Answer(arrays, meta)
    except Malformed as err:
        return Answer(error=f"the answer could not be read: {err}")
    except MemoryError:
        return Answer(error="the answer could not be read: too large")
    except Exception as err:  # never let hostile bytes stop the judge
        return Answer(error=f"the answer could not be read ({type(err).__name__})")
