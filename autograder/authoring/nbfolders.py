"""The course folders nbgrader's steps touch as the instructor, handled as hostile data.

nbgrader runs as the instructor and follows links wherever it goes: autograde
writes the executed notebook and chmods every file of the autograded folder,
generate_feedback copies every file of that folder into the feedback. So the
student's kernel must never write there. Instead:

- `copy_for_kernel` gives the kernel a private copy of its autograded folder
  (folders and regular files only, owned by the sandbox user), which the
  sandbox shows at the folder's own path; the real folder stays the
  instructor's and the copy is deleted with the kernel's work folder;
- `refuse_linked_submission` refuses to run a kernel whose submitted folder
  (nbgrader's input, copied with links followed before the kernel starts)
  holds a link or a special file;
- `feedback_hook`, nbgrader's post-convert hook of generate_feedback, leaves
  in each feedback folder only the HTML pages nbgrader wrote.

Every walk here opens folders relative to their parent's descriptor without
following links (os.fwalk with follow_symlinks=False, O_NOFOLLOW), so a path
swapped under it is skipped, never followed.
"""
import os
import shutil
import stat
from pathlib import Path

# What one student's autograded folder may hold: the package, the notebook,
# its figures (a few MB in all).
MAX_FILES = 2000
MAX_BYTES = 512 * 2**20
_CHUNK = 1 << 20


class FolderError(RuntimeError):
    """A folder nbgrader prepared cannot be handed to a student's kernel; says why."""


def _copy_file(name, dir_fd, info, target, uid):
    """Copy one regular file (opened without following links) to target, owned by uid."""
    source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=dir_fd)
    try:
        opened = os.fstat(source)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            return False  # replaced between the look and the open
        mode = 0o755 if opened.st_mode & 0o100 else 0o644
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      mode)
        try:
            while True:
                chunk = os.read(source, _CHUNK)
                if not chunk:
                    break
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view):]
            os.fchown(out, uid, uid)
        finally:
            os.close(out)
    finally:
        os.close(source)
    return True


def copy_for_kernel(source, target, uid, max_files=MAX_FILES, max_bytes=MAX_BYTES):
    """Copy the folder `source` to `target` (new) for a kernel running as `uid`.

    Folders and regular files with a single link are copied (files 0644,
    or 0755 when the owner may execute them; folders 0755), all owned by
    uid; links, hard-linked files and special files are left out. Nothing
    is followed.

    Returns:
        list of the relative paths left out.

    Raises:
        FolderError: more than max_files files or max_bytes bytes.
    """
    source, target = Path(source), Path(target)
    os.mkdir(target, 0o755)
    os.chown(target, uid, uid, follow_symlinks=False)
    left_out, files, size = [], 0, 0
    for folder, dirnames, filenames, dir_fd in os.fwalk(source, follow_symlinks=False):
        rel = Path(folder).relative_to(source)
        for name in list(dirnames):
            # fwalk lists a link to a folder among the folders (it never enters it).
            try:
                is_dir = stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
            except OSError:
                is_dir = False
            if not is_dir:
                dirnames.remove(name)
                left_out.append((rel / name).as_posix())
                continue
            made = target / rel / name
            os.mkdir(made, 0o755)
            os.chown(made, uid, uid, follow_symlinks=False)
        for name in filenames:
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                left_out.append((rel / name).as_posix())
                continue
            files += 1
            size += info.st_size
            if files > max_files or size > max_bytes:
                raise FolderError(f"{source} holds more than {max_files} files or "
                                  f"{max_bytes >> 20} MiB; a notebook's folder is far smaller")
            if not _copy_file(name, dir_fd, info, target / rel / name, uid):
                left_out.append((rel / name).as_posix())
    return left_out


def _nbgrader_parts(notebook_dir):
    """(course root, student, assignment) of <root>/autograded/<student>/<assignment>, or None."""
    folder = Path(notebook_dir)
    if len(folder.parts) < 4 or folder.parent.parent.name != 'autograded':
        return None
    return folder.parent.parent.parent, folder.parent.name, folder.name


def _odd_entries(folder, limit=MAX_FILES * 4):
    """Relative paths of links and special files under folder (folder itself included)."""
    try:
        top = os.lstat(folder)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(top.st_mode):
        return ['.']
    odd, seen = [], 0
    for path, dirnames, filenames, dir_fd in os.fwalk(folder, follow_symlinks=False):
        for name in dirnames + filenames:
            seen += 1
            if seen > limit:
                return odd + [f"... more than {limit} entries"]
            try:
                mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
            except OSError:
                continue
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                odd.append(os.path.relpath(os.path.join(path, name), folder))
    return odd


def refuse_linked_submission(notebook_dir):
    """Raise FolderError when the nbgrader submission behind an autograded folder holds links.

    nbgrader copies submitted/<student>/<assignment> into the autograded
    folder with links followed, before the kernel starts: a link there would
    have carried what it points to into the student's reach. Folders outside
    nbgrader's layout are not checked.
    """
    parts = _nbgrader_parts(notebook_dir)
    if parts is None:
        return
    root, student, assignment = parts
    submitted = root / 'submitted' / student / assignment
    odd = _odd_entries(submitted)
    if odd:
        raise FolderError(f"{submitted} holds links or special files ({', '.join(odd[:5])}); "
                          f"nbgrader copied what they point to. Replace them with the "
                          f"student's own files and autograde again")


def prune(folder, keep):
    """Remove from folder every entry but the regular files named in `keep`.

    A kept file must also have a single link and belong to this process's
    user; everything else (links, folders, FIFOs, hard links) goes, removed
    through the folder's descriptor so nothing is followed.

    Returns:
        list of the names removed.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    try:
        for name in os.listdir(fd):
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if (name in keep and stat.S_ISREG(info.st_mode) and info.st_nlink == 1
                    and info.st_uid == os.geteuid()):
                continue
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(name, dir_fd=fd)
            else:
                os.unlink(name, dir_fd=fd)
            removed.append(name)
    finally:
        os.close(fd)
    return removed


def feedback_hook(assignment=None, student=None, notebooks=()):
    """nbgrader's GenerateFeedback.post_convert_hook: feedback is nbgrader's HTML only.

    generate_feedback copies every other file of the autograded folder into
    the feedback folder; they are removed, so a student gets back the pages
    nbgrader made and nothing else. `notebooks` are the autograded notebooks
    of one student's assignment (nbgrader passes them by keyword).
    """
    del assignment, student  # nbgrader passes '*' or the --student value, not the folder's
    folders = {}
    for notebook in notebooks:
        parts = _nbgrader_parts(Path(notebook).parent)
        if parts is None:
            continue
        root, who, which = parts
        folders.setdefault(root / 'feedback' / who / which, set()).add(Path(notebook).stem +
                                                                      '.html')
    for folder, pages in folders.items():
        prune(folder, pages)
