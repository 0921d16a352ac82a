"""Unprivileged uids for sandboxed runs, each held by one grader at a time, host-wide.

A grader running as root drops student code to a uid of its own and, after
each run, kills every process of that uid. Two graders sharing a uid would
kill each other's runs, so a uid is claimed before use:

- the claim is an abstract Unix socket named after the uid. Binding it is
  atomic and fails while anyone else holds it; the kernel releases it when
  the holder dies (even by SIGKILL). Abstract sockets live in the network
  namespace, not the filesystem, so graders in different chroots or with
  different /tmp folders on one host still see each other's claims;
- a uid that some process already runs as (left by a grader that died, or
  used by something else on the host) is skipped, never swept; so is one
  the caller finds busy otherwise (the sandbox passes a uid that already owns
  files in the shared temp folders, see leftovers.owns_anything).
"""
import os
import socket
from pathlib import Path

BASE_UID = 61000
RANGE = 1000


class UidError(RuntimeError):
    """No uid could be claimed."""


class Claim:
    """A uid held for the life of this object (close() releases it)."""

    def __init__(self, uid, handle):
        self.uid = uid
        self._handle = handle

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __del__(self):
        self.close()


def processes_of(uid, proc='/proc'):
    """PIDs of the live (non-zombie) processes whose real uid is `uid`."""
    pids = []
    for entry in Path(proc).iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / 'status').read_text()
        except OSError:
            continue  # gone meanwhile
        fields = dict(line.split(':', 1) for line in status.splitlines() if ':' in line)
        if fields.get('State', '').strip().startswith('Z'):
            continue
        uids = fields.get('Uid', '').split()
        if uids and int(uids[0]) == uid:
            pids.append(int(entry.name))
    return pids


def _bind(uid):
    handle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        handle.bind(f'\0dl-homework-kit-sandbox-uid-{uid}')
    except OSError:
        handle.close()
        return None
    return handle


def claim(slot=0, base=None, busy=None):
    """Claim a free uid, trying base + slot first, then the next ones.

    Args:
        slot: the worker's number, so concurrent workers start apart.
        base: the first uid of the range ($AUTOGRADER_SANDBOX_UID or 61000).
        busy: optional callable(uid) -> bool; a uid it calls busy is skipped
            (asked only once the uid is held, so the answer cannot go stale
            through another grader's runs).

    Raises:
        UidError: every uid of the range is claimed or in use.
    """
    base = int(os.environ.get('AUTOGRADER_SANDBOX_UID', BASE_UID)) if base is None else base
    for offset in range(RANGE):
        uid = base + (slot + offset) % RANGE
        handle = _bind(uid)
        if handle is None:
            continue  # another grader holds it
        if processes_of(uid) or (busy is not None and busy(uid)):
            handle.close()  # someone runs as this uid, or owns files as it: not ours
            continue
        return Claim(uid, handle)
    raise UidError(f"no free sandbox uid in {base}..{base + RANGE - 1}")
