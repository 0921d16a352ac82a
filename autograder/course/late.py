"""Late work: when each submission came in, when it was due, and what that costs.

A policy is a due date, a grace period, a penalty per day late (a fraction
of the score, each started day counting) and a cap. It comes from the
command line (`--due`, `--grace`, `--late-per-day`, `--late-cap`) or a
course file (`--course course.yaml` with the same keys).

A submission's time comes only from what the platform or the instructor
recorded outside the submission, never from a file inside it (a student
writes those): in order of preference,

1. Gradescope's submission_metadata.json for it, from a folder the
   instructor names with `--metadata DIR` (outside the submissions folder),
   as DIR/<submission name>.json: its `created_at`; its
   `assignment.due_date` and `assignment.late_due_date` replace the policy's
   due date and cap the lateness;
2. the roster's `submitted_at` column;
3. the submission's modification time on the instructor's disk.

A `submission_metadata.json` inside a submission is an ordinary student
file: it is ignored here.
"""
import datetime as dt
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

METADATA = 'submission_metadata.json'
POLICY_KEYS = {'due', 'grace', 'late_per_day', 'late_cap'}
# Gradescope's metadata of one submission is a few kilobytes (plus the
# results of earlier submissions); anything larger is not read.
METADATA_BYTES = 4 * 2**20
# Where each Timing's time came from (the gradebook's note names it).
FROM_METADATA, FROM_ROSTER, FROM_FILE = ("Gradescope's metadata", 'the roster',
                                         "the file's modification time")


class PolicyError(ValueError):
    """A late policy that cannot be used, with the reason."""


def parse_time(text, where='time'):
    """An aware datetime from ISO 8601 text (naive times are local time)."""
    if isinstance(text, dt.datetime):
        value = text
    else:
        try:
            value = dt.datetime.fromisoformat(str(text).strip().replace('Z', '+00:00'))
        except ValueError:
            raise PolicyError(f"{where}: {text!r} is not a date and time such as "
                              f"2026-12-05T23:59 or 2026-12-05T23:59:00-05:00") from None
    return value if value.tzinfo else value.astimezone()


def parse_duration(text, where='duration'):
    """Seconds from '15m', '2h', '1d', '90s' or a number of seconds."""
    match = re.fullmatch(r'\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*', str(text))
    if not match:
        raise PolicyError(f"{where}: {text!r} is not a duration such as 15m, 2h or 1d")
    return float(match.group(1)) * {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}[match.group(2)]


def parse_fraction(text, where='fraction'):
    """A fraction from '10%', '0.1' (between 0 and 1)."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith('%') else float(raw)
    except ValueError:
        raise PolicyError(f"{where}: {text!r} is not a fraction such as 10% or 0.1") from None
    if not 0 <= value <= 1:
        raise PolicyError(f"{where}: {text!r} must lie between 0 and 100%")
    return value


@dataclass(frozen=True)
class Policy:
    """due: aware datetime or None (no deadline); grace seconds; per_day and cap fractions.

    metadata: a folder of Gradescope submission_metadata.json files, one per
    submission (DIR/<submission name>.json), or None.
    """
    due: object = None
    grace: float = 0.0
    per_day: float = 0.0
    cap: float = 1.0
    metadata: object = None

    @classmethod
    def from_options(cls, due=None, grace=None, per_day=None, cap=None, course_file=None,
                     metadata=None):
        """The policy of a course file, overridden by command-line values.

        Raises:
            PolicyError: a value cannot be used, or `metadata` is not a folder.
        """
        if metadata is not None and not Path(metadata).is_dir():
            raise PolicyError(f"--metadata {metadata}: not a folder (it holds Gradescope's "
                              f"submission_metadata.json of each submission, saved as "
                              f"<submission name>.json)")
        values = {}
        if course_file:
            try:
                raw = yaml.safe_load(Path(course_file).read_text()) or {}
            except (OSError, yaml.YAMLError) as err:
                raise PolicyError(f"{course_file}: cannot read it ({err})") from None
            if not isinstance(raw, dict) or set(raw) - POLICY_KEYS:
                unknown = sorted(set(raw) - POLICY_KEYS) if isinstance(raw, dict) else raw
                raise PolicyError(f"{course_file}: unknown key(s) {unknown}; valid: "
                                  f"{', '.join(sorted(POLICY_KEYS))}")
            values.update(raw)
        for key, value in (('due', due), ('grace', grace), ('late_per_day', per_day),
                           ('late_cap', cap)):
            if value is not None:
                values[key] = value
        return cls(due=parse_time(values['due'], 'due') if values.get('due') else None,
                   grace=parse_duration(values.get('grace', 0), 'grace'),
                   per_day=parse_fraction(values.get('late_per_day', 0), 'late_per_day'),
                   cap=parse_fraction(values.get('late_cap', 1), 'late_cap'),
                   metadata=Path(metadata).resolve() if metadata is not None else None)

    def check_outside(self, submissions):
        """Refuse a metadata folder inside the submissions folder (students' files).

        Raises:
            PolicyError: it is the folder, or lies inside it.
        """
        if self.metadata is None:
            return
        folder = Path(submissions).resolve()
        if self.metadata == folder or folder in self.metadata.parents:
            raise PolicyError(f"--metadata {self.metadata}: inside the submissions folder "
                              f"{folder}; keep the platform's metadata outside it, where no "
                              f"submission can put a file")

    def describe(self):
        if self.due is None:
            return "no due date"
        where = (f"; times from Gradescope's metadata in {self.metadata}, else the roster, "
                 f"else the file's time" if self.metadata else
                 "; times from the roster, else the file's time")
        return (f"due {self.due.isoformat(timespec='minutes')}, grace {self.grace / 60:g} min, "
                f"{self.per_day:.0%} per day late, at most {self.cap:.0%}{where}")


@dataclass
class Timing:
    """When one submission came in and what lateness costs it (a fraction of the score)."""
    submitted: object = None   # aware datetime or None
    due: object = None
    penalty: float = 0.0
    late_days: int = 0
    source: str = ''           # FROM_METADATA, FROM_ROSTER, FROM_FILE or ''
    problem: str = ''          # a platform record that could not be used, and why


def read_metadata(path, limit=METADATA_BYTES):
    """Gradescope's submission_metadata.json at `path` as a dict.

    The file is opened without following a link, must be a regular file of
    at most `limit` bytes and hold a JSON object.

    Raises:
        PolicyError: it cannot be read or is not such a file (the reason says which).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise PolicyError(f"{path}: cannot open it ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PolicyError(f"{path}: not a regular file")
        if info.st_size > limit:
            raise PolicyError(f"{path}: {info.st_size} bytes, more than the {limit} read")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise PolicyError(f"{path}: more than the {limit} bytes read")
    try:
        document = json.loads(b''.join(chunks).decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise PolicyError(f"{path}: not JSON ({type(err).__name__})") from None
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: not a JSON object")
    return document


def _from_metadata(document, where):
    """(submitted, due, late due) from Gradescope's metadata; None where absent."""
    assignment = document.get('assignment')
    assignment = assignment if isinstance(assignment, dict) else {}
    found = []
    for value, name in ((document.get('created_at'), 'created_at'),
                        (assignment.get('due_date'), 'assignment.due_date'),
                        (assignment.get('late_due_date'), 'assignment.late_due_date')):
        found.append(parse_time(value, f"{where}: {name}") if value else None)
    return found


def _file_time(submission):
    try:
        mtime = os.lstat(submission).st_mtime
        return dt.datetime.fromtimestamp(mtime).astimezone()
    except (OSError, OverflowError, ValueError):
        return None


def timing(submission, policy, roster_time=None):
    """The Timing of one submission (a zip or folder path) under a policy.

    Args:
        submission: the submission's path; nothing inside it is read.
        policy: a Policy; its metadata folder, if any, is looked up for
            <submission name>.json.
        roster_time: the roster's `submitted_at` for this student, or None.

    A metadata file or roster time that cannot be used is passed over for
    the next source; Timing.problem says why.
    """
    due, hard_end = policy.due, None
    submitted, source, problem = None, '', ''
    if submission and policy.metadata is not None:
        path = Path(policy.metadata) / (Path(submission).name + '.json')
        if os.path.lexists(path):
            try:
                when, meta_due, meta_end = _from_metadata(read_metadata(path), path.name)
                if when is not None:
                    submitted, source = when, FROM_METADATA
                due = meta_due or due
                hard_end = meta_end
            except (PolicyError, OverflowError, OSError) as err:
                problem = f"metadata not used: {err}"
    if submitted is None and roster_time not in (None, ''):
        try:
            submitted, source = parse_time(roster_time, 'roster submitted_at'), FROM_ROSTER
        except (PolicyError, OverflowError, OSError) as err:
            problem = f"roster time not used: {err}"
    if submitted is None and submission:
        submitted = _file_time(submission)
        source = FROM_FILE if submitted is not None else ''
    result = Timing(submitted, due, 0.0, 0, source, problem)
    if submitted is None or due is None:
        return result
    late = (submitted - due).total_seconds() - policy.grace
    if late > 0:
        result.late_days = math.ceil(late / 86400)
        result.penalty = min(policy.cap, policy.per_day * result.late_days)
        if hard_end is not None and submitted > hard_end:
            result.penalty = 1.0  # after the late deadline: nothing counts
    return result
