#!/usr/bin/env bash
# build.sh -- build and lint the written part of the homework kit.
#
# Usage (from anywhere):
#   written/build.sh [TARGET ...]
# Targets (default: all):
#   all        lint + every student sheet + every solutions PDF
#   lint       chktex on every .tex source (fails on any warning)
#   student    build/theory.pdf build/review.pdf build/report.pdf
#   solutions  build/theory_solutions.pdf build/review_solutions.pdf
#              build/report_solutions.pdf
#   theory | review | report                       one student sheet
#   theory_solutions | review_solutions | report_solutions
#                                                  one solutions PDF
#   clean      remove build/
#
# Each document is ONE source <doc>.tex. The solutions PDF is the same source
# compiled with the pre-definition \def\withsolutions{} (see hwkit.sty):
#   latexmk -pdf -usepretex='\def\withsolutions{}' -jobname=<doc>_solutions <doc>.tex
#
# report_solutions needs the generated assets in generated/ (values and
# figures from the solutions package). If generated/report_values.tex is
# missing, this script runs `$PYTHON make_report_assets.py` first; if that
# fails, or the assets are still incomplete, the build fails.
#
# Every LaTeX build fails on errors (-halt-on-error) and on undefined or
# multiply defined references/citations found in the final log.
#
# Environment: BUILD_DIR (default: build, relative to written/),
#              PYTHON (default: python3).
# Requires: latexmk, pdflatex (texlive-latex-base/-recommended/-extra,
#           lmodern), chktex.  apt-get install latexmk texlive-latex-base
#           texlive-latex-recommended texlive-latex-extra lmodern chktex
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
BUILD_DIR="${BUILD_DIR:-build}"
PYTHON="${PYTHON:-python3}"
DOCS=(theory review report)
REPORT_ASSETS=(report_values.tex softmax_curves.png twolayer_curves.png
               lr_sweep.png reg_sweep.png)

die() { echo "build.sh: ERROR: $*" >&2; exit 1; }

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found. Install with:
  apt-get install latexmk texlive-latex-base texlive-latex-recommended \\
    texlive-latex-extra lmodern chktex poppler-utils"
  done
}

lint() {
  need chktex
  local f out status=0
  for f in hwkit.sty "${DOCS[@]/%/.tex}"; do
    # -q: no banner; -I0: do not follow \input (generated files are not
    # ours); -l .chktexrc: project settings; -v0: one line per warning.
    out="$(chktex -q -I0 -l .chktexrc -v0 "$f" 2>&1)" || true
    if [[ -n "$out" ]]; then
      echo "$out" >&2
      status=1
    fi
  done
  [[ $status -eq 0 ]] || die "chktex reported warnings (see above)"
  echo "lint: chktex clean"
}

check_log() {
  local log="$1"
  [[ -f "$log" ]] || die "missing log $log"
  if grep -E -n "(Reference|Citation).*undefined|There were undefined|multiply defined|multiply-defined" "$log" >&2; then
    die "undefined or multiply defined references/citations in $log"
  fi
}

latex() {  # latex <doc> <jobname> [extra latexmk args...]
  local doc="$1" job="$2"; shift 2
  need latexmk pdflatex
  mkdir -p "$BUILD_DIR"
  echo "latexmk: $doc.tex -> $BUILD_DIR/$job.pdf"
  latexmk -pdf -interaction=nonstopmode -halt-on-error -file-line-error \
    -outdir="$BUILD_DIR" -jobname="$job" "$@" "$doc.tex" \
    > "$BUILD_DIR/$job.latexmk.out" 2>&1 \
    || { tail -n 40 "$BUILD_DIR/$job.latexmk.out" >&2;
         die "latexmk failed for $job (full output: $BUILD_DIR/$job.latexmk.out)"; }
  [[ -s "$BUILD_DIR/$job.pdf" ]] || die "$BUILD_DIR/$job.pdf was not produced"
  check_log "$BUILD_DIR/$job.log"
}

ensure_report_assets() {
  if [[ ! -f generated/report_values.tex ]]; then
    [[ -f make_report_assets.py ]] \
      || die "generated/report_values.tex is missing and make_report_assets.py does not exist"
    echo "generated/ incomplete: running $PYTHON make_report_assets.py"
    "$PYTHON" make_report_assets.py || die "make_report_assets.py failed"
  fi
  local a
  for a in "${REPORT_ASSETS[@]}"; do
    [[ -s "generated/$a" ]] || die "generated/$a is missing (run: $PYTHON make_report_assets.py)"
  done
}

student()   { latex "$1" "$1"; }
solutions() {
  [[ "$1" == report ]] && ensure_report_assets
  latex "$1" "$1_solutions" -usepretex='\def\withsolutions{}'
}

run() {
  case "$1" in
    all)       lint; run student; run solutions ;;
    lint)      lint ;;
    student)   for d in "${DOCS[@]}"; do student "$d"; done ;;
    solutions) for d in "${DOCS[@]}"; do solutions "$d"; done ;;
    theory|review|report) student "$1" ;;
    theory_solutions|review_solutions|report_solutions) solutions "${1%_solutions}" ;;
    clean)     rm -rf "$BUILD_DIR" ;;
    *)         die "unknown target '$1' (see the header of build.sh)" ;;
  esac
}

[[ $# -gt 0 ]] || set -- all
for target in "$@"; do run "$target"; done
echo "build.sh: done ($*)"
