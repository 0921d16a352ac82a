"""The one zip writer of the kit: byte-identical zips for the same files.

Fixed timestamps and modes, members sorted by the caller, written under a
temporary name and renamed into place, so a reader never sees half a zip.
"""
import io
import os
import stat
import zipfile
from pathlib import Path


def write_zip(out_zip, members):
    """Write (path in the zip, bytes, executable) members to out_zip; return its Path."""
    out_zip = Path(out_zip)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, data, executable in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    tmp = out_zip.with_name(out_zip.name + '.part')
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, out_zip)
    return out_zip
