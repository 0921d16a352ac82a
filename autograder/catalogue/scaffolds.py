"""The scaffolds students write against (autograder/scaffolds.yaml), and which one a package used.

    load_scaffolds(path)        {name: Scaffold}, checked
    detect(scaffolds, files)    (Scaffold, why) for a submission's files

A Scaffold states requirements (ids the rubric's tests list in `requires:`),
each with the words of the scaffold that state it. Code is graded by what
its own scaffold asked: see catalogue/__init__.py for how a test's verdict
changes when its scaffold leaves a requirement unstated.
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .schema import RubricError

# Only the start of a file is searched: enough for imports and definitions.
DETECT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Scaffold:
    """One scaffold: its name, how to recognise it, and what it states.

    detect: {relative path: compiled pattern}; states: {requirement: where it
    is stated, in the scaffold's words}.
    """
    name: str
    title: str
    detect: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)

    def stated(self, requirement):
        return requirement in self.states


def load_scaffolds(path):
    """{name: Scaffold} from the YAML file; RubricError naming the problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise RubricError(f"{path}: cannot read the scaffolds: {err}") from None
    if not isinstance(raw, dict) or set(raw) != {'scaffolds'} or \
            not isinstance(raw['scaffolds'], dict) or not raw['scaffolds']:
        raise RubricError(f"{path}: must be a mapping with one key, 'scaffolds', mapping "
                          f"names to their declarations")
    out = {}
    for name, entry in raw['scaffolds'].items():
        where = f"{path.name}: {name}"
        if not isinstance(entry, dict) or set(entry) - {'title', 'detect', 'states'} or \
                not isinstance(entry.get('title'), str):
            raise RubricError(f"{where}: needs a title, and may have detect and states "
                              f"(got {sorted(entry) if isinstance(entry, dict) else entry!r})")
        detect, states = entry.get('detect') or {}, entry.get('states') or {}
        if not isinstance(detect, dict) or not isinstance(states, dict) or \
                not all(isinstance(v, str) for v in (*detect.values(), *states.values())):
            raise RubricError(f"{where}: detect maps files to patterns and states maps "
                              f"requirements to text")
        try:
            compiled = {f: re.compile(p, re.M) for f, p in detect.items()}
        except re.error as err:
            raise RubricError(f"{where}: a detect pattern is not a regular expression: "
                              f"{err}") from None
        out[str(name)] = Scaffold(str(name), entry['title'], compiled, dict(states))
    return out


def detect(scaffolds, files, default='kit'):
    """The scaffold a submission was written against, and why we think so.

    Args:
        scaffolds: {name: Scaffold}, in the file's order of preference.
        files: {relative path: bytes} of the submission (hostile: only the
            first DETECT_BYTES of each file are searched, decoded leniently).
        default: the scaffold assumed when no pattern matches.

    Returns:
        (Scaffold, a short reason for the feedback).
    """
    for scaffold in scaffolds.values():
        for rel, pattern in scaffold.detect.items():
            content = files.get(rel)
            if content is None:
                continue
            text = bytes(content[:DETECT_BYTES]).decode('utf-8', 'replace')
            found = pattern.search(text)
            if found:
                shown = found.group(0).strip()[:40]
                return scaffold, f"{rel} has {shown!r}"
    return scaffolds[default], "no file says otherwise"
