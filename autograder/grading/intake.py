"""Read a submission (a zip or a folder) into memory, keeping only allowed files.

Nothing here executes or imports what a student sent: files are bytes, and
names are untrusted text. A member that breaks a rule is refused with its
reason and the rest is kept, so a submission is graded wherever it can be.
Only a submission that cannot be read at all (not a zip, damaged beyond
reading, over a size limit) raises IntakeError.

- Sizes: the limits in submission_files.txt (`limit file-bytes N`, `limit
  total-bytes N`: the same lines collect_submission.sh applies) bound every
  kept file and their sum, so pretrained weights or label tables cannot ride
  along; a zip's own header sizes are never trusted (reads are bounded).
- Names: any byte sequence, any length. A kept file's path must be made of
  letters, digits, '.', '_' and '-', 100 characters a part at most; anything
  else is refused, shown escaped.
- Folders are read race-free: every entry is opened relative to its parent's
  descriptor with O_NOFOLLOW, checked with fstat and read from that
  descriptor, never reopened by name, so files swapped for symlinks while
  the grader reads cannot point it elsewhere.
"""
import errno
import fnmatch
import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..untrusted import capped, name as shown

MANIFEST = 'MANIFEST.sha256'
_PART = re.compile(r'^[A-Za-z0-9_.\-]{1,100}$')
LIMIT_NAMES = {'file-bytes': 'file_bytes', 'total-bytes': 'total_bytes'}


@dataclass(frozen=True)
class Limits:
    """Size limits of a submission.

    file_bytes and total_bytes bound the kept files (from submission_files.txt);
    archive_bytes, members and entries bound what is looked at at all.
    """
    file_bytes: int = 64 * 2**10
    total_bytes: int = 256 * 2**10
    archive_bytes: int = 200 * 2**20
    members: int = 5000
    depth: int = 12


class IntakeError(Exception):
    """The submission as a whole cannot be read; the message says why."""


@dataclass(frozen=True)
class Allowlist:
    """What a student may submit: required paths, glob patterns, size limits."""
    required: tuple
    patterns: tuple
    limits: Limits = Limits()

    @classmethod
    def read(cls, path):
        """Parse submission_files.txt.

        A plain path is required, a glob allows more, and `limit NAME BYTES`
        sets a size limit (file-bytes, total-bytes). '#' starts a comment.
        """
        entries, limits = [], {}
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if words[0] == 'limit':
                if len(words) != 3 or words[1] not in LIMIT_NAMES or not words[2].isdigit() \
                        or int(words[2]) < 1:
                    raise ValueError(f"{path}:{number}: a limit line is `limit NAME BYTES` with "
                                     f"NAME one of {', '.join(LIMIT_NAMES)}")
                limits[LIMIT_NAMES[words[1]]] = int(words[2])
                continue
            entries.append(line)
        globs = tuple(e for e in entries if any(c in e for c in '*?['))
        return cls(tuple(e for e in entries if e not in globs), globs, Limits(**limits))

    def allows(self, rel):
        # fnmatch's * crosses '/', so also require the same depth.
        depth = rel.count('/')
        return rel in self.required or any(
            fnmatch.fnmatchcase(rel, p) and p.count('/') == depth for p in self.patterns)


@dataclass
class Submission:
    """The allowed files of a submission and what intake decided about the rest.

    Attributes:
        files: relative POSIX path -> content, allowed files only.
        ignored: paths present but not on the allowed list (never read).
        refused: 'path: reason' for members broken, too large or dangerous.
        missing: required paths that are absent.
        manifest: what MANIFEST.sha256 said: 'verified', 'absent', or a
            description of the mismatches.
        digest: SHA-256 over the allowed files' paths and contents: two
            submissions with the same digest are graded the same.
    """
    files: dict = field(default_factory=dict)
    ignored: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    manifest: str = 'absent'
    digest: str = ''

    def notes(self):
        """Lines for the student's feedback about what intake did (lists capped)."""
        lines = [f"refused {item}" for item in capped(self.refused, 20, 'more refused')]
        if self.missing:
            lines.append("missing: " + ", ".join(capped(self.missing, 20)))
        if self.ignored:
            lines.append("ignored (not on the list of submitted files): " +
                         ", ".join(capped(self.ignored, 20, 'more')))
        if self.manifest not in ('verified', 'absent'):
            lines.append(f"manifest: {self.manifest}")
        return lines


def _clean_name(name):
    """The member's relative path (POSIX parts), or raise ValueError with the reason."""
    if '\\' in name:
        raise ValueError("backslash in the path")
    if name.startswith('/') or (len(name) > 1 and name[1] == ':'):
        raise ValueError("absolute path")
    parts = [p for p in name.split('/') if p not in ('', '.')]
    if not parts or any(p == '..' for p in parts):
        raise ValueError("path escapes the submission folder")
    return '/'.join(parts)


def _safe_path(rel):
    """Why a kept file's path is unacceptable, or None."""
    if len(rel) > 200 or not all(_PART.match(part) for part in rel.split('/')):
        return ("its name has characters or a length the grader does not accept (letters, "
                "digits, '.', '_', '-'; 100 per part)")
    return None


def _read_capped(read, cap):
    """Up to cap bytes from read(n); None if there are more."""
    data = read(cap + 1)
    return None if len(data) > cap else data


def _zip_members(path, limits, wanted):
    """Yield (name, data or None, reason) for each file member of a zip."""
    try:
        size = os.stat(path).st_size
    except OSError as err:
        raise IntakeError(f"cannot read the zip ({err.strerror or err})") from None
    if size > limits.archive_bytes:
        raise IntakeError(f"the zip is {size:,} bytes; the limit is {limits.archive_bytes:,}")
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except Exception as err:  # BadZipFile, NotImplementedError, UnicodeDecodeError ...
        raise IntakeError(f"not a readable zip file ({type(err).__name__})") from None
    with archive:
        if len(infos) > limits.members:
            raise IntakeError(f"the zip has {len(infos)} members; the limit is {limits.members}")
        for info in infos:
            name = info.filename
            try:
                if info.is_dir():
                    continue
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    yield name, None, "symbolic links are not accepted"
                    continue
                if not wanted(name):
                    yield name, b'', None  # listed, never decompressed
                    continue
                if info.flag_bits & 0x1:
                    yield name, None, "encrypted"
                    continue
                with archive.open(info) as stream:
                    data = _read_capped(stream.read, limits.file_bytes)
            except Exception as err:  # any damage to one member: refuse it, keep the rest
                yield name, None, f"damaged ({type(err).__name__})"
                continue
            if data is None:
                yield name, None, (f"larger than {limits.file_bytes:,} bytes (the limit of "
                                   f"one file)")
                continue
            yield name, data, None


_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)


def _folder_members(root_fd, limits, wanted, prefix='', depth=0, counter=None):
    """Yield (name, data or None, reason) for each file under an open folder.

    Every entry is opened relative to root_fd with O_NOFOLLOW, checked with
    fstat and read from its own descriptor.
    """
    counter = counter if counter is not None else [0]
    try:
        names = sorted(entry.name for entry in os.scandir(root_fd))
    except OSError as err:
        yield prefix or '.', None, f"cannot list ({err.strerror})"
        return
    for entry in names:
        rel = prefix + entry
        counter[0] += 1
        if counter[0] > limits.members:
            raise IntakeError(f"the folder has more than {limits.members} entries")
        if entry in ('__pycache__', '.git', '.ipynb_checkpoints'):
            continue
        try:
            fd = os.open(entry, _OPEN, dir_fd=root_fd)
        except OSError as err:
            reason = ("symbolic links are not accepted" if err.errno == errno.ELOOP
                      else f"cannot open ({err.strerror})")
            yield rel, None, reason
            continue
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                if depth >= limits.depth:
                    yield rel, None, "folders nested too deep"
                    continue
                yield from _folder_members(fd, limits, wanted, rel + '/', depth + 1, counter)
                continue
            if not stat.S_ISREG(info.st_mode):
                yield rel, None, "not a regular file"
                continue
            if not wanted(rel):
                yield rel, b'', None
                continue
            if info.st_size > limits.file_bytes:
                yield rel, None, f"larger than {limits.file_bytes:,} bytes (the limit of one file)"
                continue
            os.set_blocking(fd, True)
            chunks, left = [], limits.file_bytes + 1
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 16))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            data = b''.join(chunks)
            if len(data) > limits.file_bytes:
                yield rel, None, f"larger than {limits.file_bytes:,} bytes (the limit of one file)"
                continue
            yield rel, data, None
        except OSError as err:
            yield rel, None, f"cannot read ({err.strerror})"
        finally:
            os.close(fd)


def _open_folder(path):
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise IntakeError(f"{shown(Path(path).name)}: symbolic links are not accepted") \
                from None
        raise IntakeError(f"{shown(path)}: cannot open the folder ({err.strerror})") from None


def _strip_wrapper(names, allowlist):
    """The common top folder to drop when a student zipped the folder itself."""
    if any(allowlist.allows(n) for n in names):
        return ''
    tops = {n.split('/', 1)[0] for n in names if '/' in n and not n.startswith('__MACOSX/')}
    if len(tops) == 1:
        top = tops.pop() + '/'
        if any(allowlist.allows(n[len(top):]) for n in names if n.startswith(top)):
            return top
    return ''


def _check_manifest(text, files):
    problems = []
    for line in text.splitlines()[:1000]:
        if not line.strip():
            continue
        digest, _, rel = line.partition('  ')
        if rel not in files:
            problems.append(f"{shown(rel)} listed but not submitted")
        elif hashlib.sha256(files[rel]).hexdigest() != digest.strip():
            problems.append(f"{shown(rel)} changed after the zip was made")
    return 'verified' if not problems else '; '.join(capped(problems, 10))


def _wanted(allowlist):
    """Which member names are read at all: the allowed files and the manifest, at any wrapper."""
    def wanted(name):
        rel = name.strip('/')
        if rel == MANIFEST or rel.endswith('/' + MANIFEST) or allowlist.allows(rel):
            return True
        return '/' in rel and allowlist.allows(rel.split('/', 1)[1])
    return wanted


def fingerprint(path, allowlist):
    """The digest that identifies a submission's content for resumed grading; never raises.

    A readable submission's digest covers its allowed files; an unreadable
    one's covers its raw bytes (so an unchanged broken zip is not re-graded).
    """
    try:
        return read_submission(path, allowlist).digest
    except Exception:
        try:
            h = hashlib.sha256()
            with open(path, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    h.update(chunk)
            return 'unreadable:' + h.hexdigest()
        except OSError:
            return 'unreadable'


def read_submission(path, allowlist):
    """Read a zip or folder submission.

    Args:
        path: a .zip file or a folder laid out like the package folder (or
            holding one such folder).
        allowlist: the Allowlist of submittable files, with the size limits.

    Returns:
        Submission.

    Raises:
        IntakeError: the path is neither a zip nor a folder, or the archive is
            damaged beyond reading or over a size limit.
    """
    limits = allowlist.limits
    wanted = _wanted(allowlist)
    path = os.fspath(path)
    try:
        info = os.lstat(path)
    except OSError:
        raise IntakeError(f"{shown(path)}: no such file or folder") from None
    if stat.S_ISLNK(info.st_mode):
        raise IntakeError(f"{shown(Path(path).name)}: symbolic links are not accepted")
    if stat.S_ISDIR(info.st_mode):
        fd = _open_folder(path)
        try:
            members = list(_folder_members(fd, limits, wanted))
        finally:
            os.close(fd)
    elif stat.S_ISREG(info.st_mode):
        members = list(_zip_members(path, limits, wanted))
    else:
        raise IntakeError(f"{shown(path)}: not a zip file or a folder")

    result = Submission()
    wrapper = _strip_wrapper([n for n, _, _ in members], allowlist)
    manifest_text, seen, total = None, set(), 0
    for name, data, reason in members:
        try:
            rel = _clean_name(name)
        except ValueError as err:
            result.refused.append(f"{shown(name)}: {err}")
            continue
        if wrapper and rel.startswith(wrapper):
            rel = rel[len(wrapper):]
        if rel in seen:
            result.refused.append(f"{shown(rel)}: appears twice")
            result.files.pop(rel, None)
            continue
        seen.add(rel)
        if reason:
            result.refused.append(f"{shown(rel)}: {reason}")
        elif rel == MANIFEST:
            manifest_text = data.decode('utf-8', errors='replace')
        elif allowlist.allows(rel):
            problem = _safe_path(rel)
            if problem:
                result.refused.append(f"{shown(rel)}: {problem}")
                continue
            total += len(data)
            if total > limits.total_bytes:
                raise IntakeError(f"the submitted files add up to more than "
                                  f"{limits.total_bytes:,} bytes (the limit; {shown(rel)} "
                                  f"went over it)")
            result.files[rel] = data
        elif not rel.startswith('__MACOSX/') and '__pycache__' not in rel.split('/'):
            result.ignored.append(shown(rel))
    result.ignored.sort()
    result.missing = [rel for rel in allowlist.required if rel not in result.files]
    if manifest_text is not None:
        result.manifest = _check_manifest(manifest_text, result.files)
    h = hashlib.sha256()
    for rel in sorted(result.files):
        h.update(rel.encode() + b'\0' + hashlib.sha256(result.files[rel]).digest())
    result.digest = h.hexdigest()
    return result
