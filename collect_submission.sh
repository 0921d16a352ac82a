#!/usr/bin/env bash
# Build the zip to upload, from exactly the files listed in submission_files.txt.
#
# Usage (from your package folder, e.g. student_version/):
#   ../collect_submission.sh [-o OUT.zip] [PACKAGE_DIR]
#
# Checks that every required file is there and parses (Python files as Python,
# YAML files as YAML) and is within the grader's size limits (the "limit"
# lines of submission_files.txt), warns about functions that still raise
# NotImplementedError, writes MANIFEST.sha256 (the SHA-256 of every file) into
# the zip and prints the zip's path, size and contents. The same files always
# give a byte-identical zip. Exit status: 0 zip written (warnings or not),
# 1 a required file is missing, does not parse or is too large (no zip
# written, and an older zip at the same path is renamed to .zip.stale so it
# cannot be uploaded by mistake), 2 usage.
set -euo pipefail
for arg in "$@"; do
  case $arg in -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
done
exec python3 - "$@" <<'PY'
import argparse
import ast
import fnmatch
import hashlib
import io
import sys
import zipfile
from pathlib import Path

MANIFEST = 'MANIFEST.sha256'
STUB_MESSAGE = 'is not implemented yet'
# The size limits submission_files.txt may set ("limit NAME BYTES"); the
# grader reads the same lines.
LIMITS = ('file-bytes', 'total-bytes')

parser = argparse.ArgumentParser(prog='collect_submission.sh', add_help=False)
parser.add_argument('package', nargs='?', default='.')
parser.add_argument('-o', '--output')
try:
    args = parser.parse_args()
except SystemExit:
    sys.exit(2)
package = Path(args.package).resolve()
listing = package / 'submission_files.txt'
if not listing.is_file():
    print(f"collect_submission.sh: {listing} not found: run this from your package "
          f"folder (the one with models/, optimizer/ and utils.py)", file=sys.stderr)
    sys.exit(2)
entries, limits = [], {}
for number, line in enumerate(listing.read_text().splitlines(), 1):
    line = line.split('#', 1)[0].strip()  # '#' starts a comment, as for the grader
    words = line.split()
    if not words:
        continue
    if words[0] != 'limit':
        entries.append(line)
        continue
    if len(words) != 3 or words[1] not in LIMITS or not words[2].isdigit() or int(words[2]) < 1:
        print(f"collect_submission.sh: {listing}:{number}: expected 'limit NAME BYTES' with "
              f"NAME one of {', '.join(LIMITS)} and BYTES a positive integer, got "
              f"{line!r}", file=sys.stderr)
        sys.exit(2)
    limits[words[1]] = int(words[2])
out = Path(args.output).resolve() if args.output else package / 'submission.zip'
required = [e for e in entries if not any(c in e for c in '*?[')]
patterns = [e for e in entries if e not in required]

files = set(required)
for pattern in patterns:
    for path in package.glob(pattern):
        rel = path.relative_to(package).as_posix()
        if path.is_file() and not path.is_symlink() and fnmatch.fnmatch(rel, pattern):
            files.add(rel)

errors, warnings = [], []
total = 0
for rel in sorted(files):
    path = package / rel
    if not path.is_file():
        errors.append(f"{rel}: missing")
        continue
    if path.is_symlink():
        errors.append(f"{rel}: is a symbolic link; copy the file itself")
        continue
    size = path.stat().st_size
    total += size
    if size > limits.get('file-bytes', size):
        errors.append(f"{rel}: {size:,} bytes, over the grader's limit of "
                      f"{limits['file-bytes']:,} bytes per file (it would refuse it)")
        continue
    text = path.read_bytes().decode('utf-8', errors='replace')
    if rel.endswith('.py'):
        try:
            tree = ast.parse(text, rel)
        except SyntaxError as err:
            errors.append(f"{rel}:{err.lineno}: does not parse: {err.msg}")
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and getattr(node.exc.func, 'id', '') == 'NotImplementedError'
                    and STUB_MESSAGE in ast.dump(node.exc)):
                warnings.append(f"{rel}:{node.lineno}: still raises NotImplementedError "
                                f"(a TODO is left)")
    elif rel.endswith(('.yaml', '.yml')):
        import yaml
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as err:
            errors.append(f"{rel}: not valid YAML: {str(err).splitlines()[0]}")

if total > limits.get('total-bytes', total):
    errors.append(f"the files add up to {total:,} bytes, over the grader's limit of "
                  f"{limits['total-bytes']:,} bytes for a submission")

for line in warnings:
    print(f"warning: {line}", file=sys.stderr)
if errors:
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    print("collect_submission.sh: no zip written; fix the errors above", file=sys.stderr)
    if out.exists():
        # An older zip must not be uploaded in the belief that it is this one.
        stale = out.with_name(out.name + '.stale')
        out.replace(stale)
        print(f"collect_submission.sh: the previous {out.name} (not up to date with these "
              f"files) was renamed to {stale.name}", file=sys.stderr)
    sys.exit(1)

members = sorted(files)
manifest = ''.join(f"{hashlib.sha256((package / rel).read_bytes()).hexdigest()}  {rel}\n"
                   for rel in members)
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, 'w') as archive:
    for rel, data in [(rel, (package / rel).read_bytes()) for rel in members] + \
            [(MANIFEST, manifest.encode())]:
        # Fixed time stamps and modes: the same files give the same bytes.
        info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.create_system = 3
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data, compresslevel=9)
tmp = out.with_name(out.name + '.part')
tmp.write_bytes(buffer.getvalue())
tmp.replace(out)
print(f"{out} ({out.stat().st_size:,} bytes, {len(members)} files + {MANIFEST})")
for rel in members:
    print(f"  {rel}")
if warnings:
    print(f"{len(warnings)} warning(s): unfinished TODOs score 0 on the tests that need them",
          file=sys.stderr)
PY
