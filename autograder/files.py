"""Files the kit writes for instructors: created whole or not at all, readable by course staff only.

Results, summaries, batch.json, the gradebook, the reports and the judge's
cached arrays are written through these: a temporary file in the same
folder, then a rename, so a reader (or a run killed halfway) sees the old
file or the new one, never a part. Files are mode 0640 in folders of mode
0750: readable by the grader's group (course staff sharing a group), by
nobody else, and never by the sandbox's users.
"""
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

FILE_MODE, DIR_MODE = 0o640, 0o750


def make_dir(path):
    """A folder for instructor output (created with its parents), mode DIR_MODE."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


@contextmanager
def _atomically(path, mode, binary=False):
    """A file object writing a temporary file beside `path`, renamed onto it when the
    block ends without an exception (and removed when it raises)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.')
    try:
        with (os.fdopen(fd, 'wb') if binary else
              os.fdopen(fd, 'w', encoding='utf-8', errors='backslashreplace')) as f:
            yield f
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path, text, mode=FILE_MODE):
    """Write a text file atomically: a temporary file in the same folder, then rename.

    Readers (and a run killed halfway) see the old file or the new one, never
    a part.
    """
    with _atomically(path, mode) as f:
        f.write(text)


def write_json(path, data):
    """Write JSON atomically (see write_text); NaN and infinity are refused."""
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + '\n')


def write_array(path, array, mode=FILE_MODE):
    """np.save to path atomically (see write_text)."""
    with _atomically(path, mode, binary=True) as f:
        np.save(f, np.asarray(array), allow_pickle=False)


def write_arrays(path, mode=FILE_MODE, **arrays):
    """np.savez of named arrays to path atomically (see write_text)."""
    with _atomically(path, mode, binary=True) as f:
        np.savez(f, **arrays)
