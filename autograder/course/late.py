"""Late work: when each submission came in, when it was due, and what that costs.

A policy is a due date, a grace period, a penalty per day late (a fraction
of the score, each started day counting) and a cap. It comes from the
command line (`--due`, `--grace`, `--late-per-day`, `--late-cap`) or a
course file (`--course course.yaml` with the same keys). A submission's time
is, in order of preference: Gradescope's submission_metadata.json inside the
submission (its `created_at`; its `assignment.due_date` and
`assignment.late_due_date` replace the policy's due date and cap the
lateness), else the file's modification time.
"""
import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

METADATA = 'submission_metadata.json'
POLICY_KEYS = {'due', 'grace', 'late_per_day', 'late_cap'}


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
    """due: aware datetime or None (no deadline); grace seconds; per_day and cap fractions."""
    due: object = None
    grace: float = 0.0
    per_day: float = 0.0
    cap: float = 1.0

    @classmethod
    def from_options(cls, due=None, grace=None, per_day=None, cap=None, course_file=None):
        """The policy of a course file, overridden by command-line values."""
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
                   cap=parse_fraction(values.get('late_cap', 1), 'late_cap'))

    def describe(self):
        if self.due is None:
            return "no due date"
        return (f"due {self.due.isoformat(timespec='minutes')}, grace {self.grace / 60:g} min, "
                f"{self.per_day:.0%} per day late, at most {self.cap:.0%}")


@dataclass
class Timing:
    """When one submission came in and what lateness costs it (a fraction of the score)."""
    submitted: object = None   # aware datetime or None
    due: object = None
    penalty: float = 0.0
    late_days: int = 0
    source: str = ''


def _metadata(submission):
    """Gradescope's submission_metadata.json inside a submission folder, or {}."""
    path = Path(submission) / METADATA
    try:
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 2**20:
            data = json.loads(path.read_text())
            return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        pass
    return {}


def timing(submission, policy):
    """The Timing of one submission (a zip or folder path) under a policy."""
    meta = _metadata(submission) if submission and Path(submission).is_dir() else {}
    due, hard_end = policy.due, None
    submitted, source = None, ''
    try:
        if meta.get('created_at'):
            submitted, source = parse_time(meta['created_at']), METADATA
        assignment = meta.get('assignment') if isinstance(meta.get('assignment'), dict) else {}
        if assignment.get('due_date'):
            due = parse_time(assignment['due_date'])
        if assignment.get('late_due_date'):
            hard_end = parse_time(assignment['late_due_date'])
    except PolicyError:
        submitted, source = None, ''
    if submitted is None and submission:
        try:
            submitted = dt.datetime.fromtimestamp(Path(submission).stat().st_mtime).astimezone()
            source = 'file time'
        except OSError:
            pass
    result = Timing(submitted, due, 0.0, 0, source)
    if submitted is None or due is None:
        return result
    late = (submitted - due).total_seconds() - policy.grace
    if late > 0:
        result.late_days = math.ceil(late / 86400)
        result.penalty = min(policy.cap, policy.per_day * result.late_days)
        if hard_end is not None and submitted > hard_end:
            result.penalty = 1.0  # after the late deadline: nothing counts
    return result
