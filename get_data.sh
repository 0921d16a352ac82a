#!/usr/bin/env bash
# Fetch the four MNIST files and verify each against its published SHA-256.
#
# Usage: ./get_data.sh [--source DIR] [--dest DIR] [--quiet]
#
#   --source DIR  copy the files from a local folder instead of downloading them
#                 (same as MNIST_SOURCE=DIR); they are verified the same way.
#   --dest DIR    where the files go (default: $MNIST_DIR, else data/mnist next
#                 to this script, which is where utils.py looks for them).
#   --quiet       print errors only.
#
# Downloads try each mirror in $MNIST_MIRRORS (space-separated base URLs) in
# turn until one gives a file with the right checksum. A file that is already
# in place and verified is not fetched again, and nothing ever sits under a
# final name until it has been verified. Exit status: 0 when all four files are
# in place and verified, 1 otherwise (with a one-line reason per failure), 2 on
# a usage error.
set -euo pipefail

MIRRORS_DEFAULT="https://storage.googleapis.com/cvdf-datasets/mnist/ \
https://ossci-datasets.s3.amazonaws.com/mnist/ \
http://yann.lecun.com/exdb/mnist/"

# name -> SHA-256 of the official file
FILES="train-images-idx3-ubyte.gz 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
train-labels-idx1-ubyte.gz 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
t10k-images-idx3-ubyte.gz 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
t10k-labels-idx1-ubyte.gz f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=${MNIST_SOURCE:-}
dest=${MNIST_DIR:-$here/data/mnist}
quiet=0

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --source) [ $# -ge 2 ] || { echo "get_data.sh: --source needs a folder" >&2; exit 2; }
              source_dir=$2; shift 2 ;;
    --dest)   [ $# -ge 2 ] || { echo "get_data.sh: --dest needs a folder" >&2; exit 2; }
              dest=$2; shift 2 ;;
    --quiet|-q) quiet=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "get_data.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "$@"; }
fail() { echo "get_data.sh: $*" >&2; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  else python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}

# download URL OUT: fetch URL into OUT; non-zero on any transfer error.
download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 15 --max-time 600 --retry 1 -o "$2" "$1" 2>/dev/null
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T 15 -t 2 -O "$2" "$1"
  else
    python3 - "$1" "$2" <<'PY'
import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=15) as r, open(sys.argv[2], "wb") as f:
    shutil.copyfileobj(r, f)
PY
  fi
}

if [ -n "$source_dir" ] && [ -e "$source_dir" ] && [ ! -d "$source_dir" ]; then
  hint=
  case $(basename "$source_dir") in
    *-ubyte.gz) hint=" (for this file, that is: --source '$(dirname "$source_dir")')" ;;
  esac
  fail "--source wants a folder that holds the four .gz files; '$source_dir' is a file$hint"
  exit 2
fi
if [ -n "$source_dir" ] && [ ! -d "$source_dir" ]; then
  fail "source folder '$source_dir' does not exist"; exit 1
fi
mkdir -p "$dest" || { fail "cannot create '$dest'"; exit 1; }
tmp=$(mktemp -d "$dest/.get_data.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

status=0
offline=0  # some file had every mirror unreachable
while read -r name want; do
  final=$dest/$name
  if [ -f "$final" ] && [ "$(sha256_of "$final")" = "$want" ]; then
    say "$name: already in place, checksum ok"
    continue
  fi
  part=$tmp/$name
  if [ -n "$source_dir" ]; then
    if [ ! -f "$source_dir/$name" ]; then
      fail "$name: missing in source folder '$source_dir'"; status=1; continue
    fi
    cp "$source_dir/$name" "$part"
    got=$(sha256_of "$part")
    if [ "$got" != "$want" ]; then
      fail "$name: checksum mismatch in '$source_dir' (truncated or corrupt; got ${got:0:12}..., want ${want:0:12}...)"
      status=1; continue
    fi
    origin=$source_dir
  else
    origin=
    reasons=
    reached=0
    for mirror in ${MNIST_MIRRORS:-$MIRRORS_DEFAULT}; do
      rm -f "$part"
      if ! download "${mirror%/}/$name" "$part"; then
        reasons="$reasons; $mirror: unreachable or refused"; continue
      fi
      reached=1
      got=$(sha256_of "$part")
      if [ "$got" != "$want" ]; then
        reasons="$reasons; $mirror: checksum mismatch (truncated or corrupt)"; continue
      fi
      origin=$mirror; break
    done
    if [ -z "$origin" ]; then
      fail "$name: no mirror gave a verified copy (${reasons#; })"; status=1
      [ "$reached" = 1 ] || offline=1
      continue
    fi
  fi
  # Verified in the same folder: the rename is atomic.
  mv -f "$part" "$final"
  say "$name: fetched from $origin, checksum ok"
done <<EOF
$FILES
EOF

if [ "$offline" = 1 ]; then
  fail "no mirror could be reached: offline, or behind a firewall? Get the four files" \
       "some other way (your course's page, a USB stick, a machine that is online) into" \
       "one folder, then run: $0 --source DIR"
fi
if [ "$status" = 0 ]; then say "MNIST is ready in $dest"; fi
exit "$status"
