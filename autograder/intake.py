"""Read a submission (a zip or a folder) into memory, keeping only allowed files.

Nothing here executes or imports what a student sent: files are bytes. A
member that breaks a rule is refused with its reason and the rest is kept, so
a submission is graded wherever it can be. Only a submission that cannot be
read at all (not a zip, corrupt, too large) raises IntakeError.
"""
import fnmatch
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = 'MANIFEST.sha256'


@dataclass(frozen=True)
class Limits:
    """Size limits; a zip's own header sizes are never trusted."""
    archive_bytes: int = 20 * 2**20
    member_bytes: int = 2 * 2**20
    total_bytes: int = 20 * 2**20
    members: int = 500


@dataclass(frozen=True)
class Allowlist:
    """What a student may submit: required paths and glob patterns."""
    required: tuple
    patterns: tuple

    @classmethod
    def read(cls, path):
        """Parse submission_files.txt: a plain path is required, a glob allows more."""
        entries = [line.strip() for line in Path(path).read_text().splitlines()
                   if line.strip() and not line.lstrip().startswith('#')]
        globs = tuple(e for e in entries if any(c in e for c in '*?['))
        return cls(tuple(e for e in entries if e not in globs), globs)

    def allows(self, rel):
        # fnmatch's * crosses '/', so also require the same depth.
        depth = rel.count('/')
        return rel in self.required or any(
            fnmatch.fnmatchcase(rel, p) and p.count('/') == depth for p in self.patterns)


class IntakeError(Exception):
    """The submission as a whole cannot be read; the message says why."""


@dataclass
class Submission:
    """The allowed files of a submission and what intake decided about the rest.

    Attributes:
        files: relative POSIX path -> content, allowed files only.
        ignored: paths present but not on the allowed list (never used).
        refused: 'path: reason' for members broken or dangerous.
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
        """Lines for the student's feedback about what intake did."""
        lines = [f"refused {item}" for item in self.refused]
        if self.missing:
            lines.append("missing: " + ", ".join(self.missing))
        if self.ignored:
            shown = ", ".join(self.ignored[:20]) + (" ..." if len(self.ignored) > 20 else "")
            lines.append(f"ignored (not on the list of submitted files): {shown}")
        if self.manifest not in ('verified', 'absent'):
            lines.append(f"manifest: {self.manifest}")
        return lines


def _clean_name(name):
    """The member's safe relative path, or raise ValueError with the reason."""
    if '\\' in name:
        raise ValueError("backslash in the path")
    if name.startswith('/') or (len(name) > 1 and name[1] == ':'):
        raise ValueError("absolute path")
    parts = [p for p in PurePosixPath(name).parts if p != '.']
    if not parts or any(p == '..' for p in parts):
        raise ValueError("path escapes the submission folder")
    return '/'.join(parts)


def _read_capped(stream, cap):
    """Up to cap bytes from a stream; None if it holds more."""
    data = stream.read(cap + 1)
    return None if len(data) > cap else data


def _zip_members(path, limits):
    """Yield (name, data or None, reason) for each file member of a zip."""
    if path.stat().st_size > limits.archive_bytes:
        raise IntakeError(f"the zip is {path.stat().st_size:,} bytes; the limit is "
                          f"{limits.archive_bytes:,}")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise IntakeError(f"not a readable zip file ({err})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.members:
            raise IntakeError(f"the zip has {len(infos)} members; the limit is {limits.members}")
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                yield info.filename, None, "symbolic links are not accepted"
                continue
            if info.flag_bits & 0x1:
                yield info.filename, None, "encrypted"
                continue
            try:
                with archive.open(info) as stream:
                    data = _read_capped(stream, min(limits.member_bytes,
                                                    limits.total_bytes - total))
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError,
                    RuntimeError) as err:
                yield info.filename, None, f"corrupt member ({err})"
                continue
            except Exception as err:  # e.g. zlib.error from a damaged stream
                yield info.filename, None, f"corrupt member ({type(err).__name__}: {err})"
                continue
            if data is None:
                if total >= limits.total_bytes - limits.member_bytes:
                    raise IntakeError(f"the files unpack to more than "
                                      f"{limits.total_bytes:,} bytes")
                yield info.filename, None, (f"larger than {limits.member_bytes:,} bytes "
                                            f"uncompressed")
                continue
            total += len(data)
            yield info.filename, data, None


def _folder_members(root, limits, wanted):
    """Yield (name, data or None, reason) for each file under a folder.

    Only files for which wanted(relative path) is true are read and count
    against the limits; the others are yielded with empty content.
    """
    count, total = 0, 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in list(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                dirnames.remove(name)
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                yield rel, None, "symbolic links are not accepted"
        dirnames[:] = [d for d in dirnames if d not in ('__pycache__', '.git')]
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, '/')
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                yield rel, None, "symbolic links are not accepted"
                continue
            if not stat.S_ISREG(info.st_mode):
                yield rel, None, "not a regular file"
                continue
            if not wanted(rel):
                yield rel, b'', None
                continue
            count += 1
            if count > limits.members:
                raise IntakeError(f"the folder has more than {limits.members} files")
            if info.st_size > limits.member_bytes:
                yield rel, None, f"larger than {limits.member_bytes:,} bytes"
                continue
            total += info.st_size
            if total > limits.total_bytes:
                raise IntakeError(f"the files add up to more than {limits.total_bytes:,} bytes")
            with open(full, 'rb') as f:
                yield rel, f.read(), None


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
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.partition('  ')
        if rel not in files:
            problems.append(f"{rel} listed but not submitted")
        elif hashlib.sha256(files[rel]).hexdigest() != digest.strip():
            problems.append(f"{rel} changed after the zip was made")
    return 'verified' if not problems else '; '.join(problems)


def fingerprint(path, allowlist, limits=Limits()):
    """The digest that identifies a submission's content for resumed grading.

    A readable submission's digest covers its allowed files; an unreadable
    one's covers its raw bytes (so an unchanged broken zip is not re-graded).
    """
    try:
        return read_submission(path, allowlist, limits).digest
    except IntakeError:
        path = Path(path)
        if not path.is_file():
            return 'unreadable'
        return 'unreadable:' + hashlib.sha256(path.read_bytes()).hexdigest()


def read_submission(path, allowlist, limits=Limits()):
    """Read a zip or folder submission.

    Args:
        path: a .zip file or a folder laid out like the package folder.
        allowlist: the Allowlist of submittable files.
        limits: size limits.

    Returns:
        Submission.

    Raises:
        IntakeError: the path is neither a zip nor a folder, or the archive is
            corrupt or over a size limit.
    """
    path = Path(path)
    if path.is_symlink():
        raise IntakeError(f"{path.name}: symbolic links are not accepted")
    if path.is_dir() and not any((path / rel).exists() for rel in allowlist.required):
        # The package folder wrapped in one more folder (an unzipped upload).
        inner = [p for p in path.iterdir() if p.is_dir() and not p.is_symlink()
                 and any((p / rel).exists() for rel in allowlist.required)]
        if len(inner) == 1:
            path = inner[0]
    if path.is_dir():
        members = list(_folder_members(
            path, limits, lambda rel: rel == MANIFEST or allowlist.allows(rel)))
    elif path.is_file():
        members = list(_zip_members(path, limits))
    else:
        raise IntakeError(f"{path}: no such file or folder")

    result = Submission()
    wrapper = _strip_wrapper([name for name, _, _ in members], allowlist)
    manifest_text = None
    seen = set()
    for name, data, reason in members:
        try:
            rel = _clean_name(name)
        except ValueError as err:
            result.refused.append(f"{name}: {err}")
            continue
        if wrapper and rel.startswith(wrapper):
            rel = rel[len(wrapper):]
        if rel in seen:
            result.refused.append(f"{rel}: appears twice")
            result.files.pop(rel, None)
            continue
        seen.add(rel)
        if reason:
            result.refused.append(f"{rel}: {reason}")
        elif rel == MANIFEST:
            manifest_text = data.decode('utf-8', errors='replace')
        elif allowlist.allows(rel):
            result.files[rel] = data
        elif not rel.startswith('__MACOSX/') and '__pycache__/' not in rel:
            result.ignored.append(rel)
    result.ignored.sort()
    result.missing = [rel for rel in allowlist.required if rel not in result.files]
    if manifest_text is not None:
        result.manifest = _check_manifest(manifest_text, result.files)
    h = hashlib.sha256()
    for rel in sorted(result.files):
        h.update(rel.encode() + b'\0' + hashlib.sha256(result.files[rel]).digest())
    result.digest = h.hexdigest()
    return result
