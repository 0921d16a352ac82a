"""Kit tests for the written part (written/): LaTeX build, lint, leaks, math.

Run:  python -m pytest tests/test_written.py -q

Needs latexmk, pdflatex, chktex and pdftotext on PATH:
  apt-get install latexmk texlive-latex-base texlive-latex-recommended \
      texlive-latex-extra lmodern chktex poppler-utils
If they are missing the tests FAIL (never skip) and say what to install.

Every build runs in a temporary copy of written/ (nothing is written to the
tree). The solutions report is built from fixture assets that this file
writes into the copy's generated/ folder (dummy values and tiny PNGs): it
tests the LaTeX, not the numbers of the solutions package. One test runs the
real generator, `make_report_assets.py --quick` (one epoch per run on a
subset: seconds, whatever the machine's load), and builds everything from
its output. The report's own numbers come from the full run, which also
checks every claim the model answers make about them:

    python written/make_report_assets.py && written/build.sh

Every command here runs in its own process group and the whole group is
killed if it exceeds its timeout, so nothing it started outlives the test.

The numeric checks verify the math stated in theory.tex (softmax Jacobian,
softmax + cross-entropy gradient, the non-convexity of softmax regression with
and without its L2 penalty). They take the softmax implementation as an
argument so the solutions package's one can be plugged in. The grading guides
are summed against their questions' points, GRADING.md against every rubric,
and the claims the model answers make (the generator's CLAIMS) are checked
against the reference numbers, including that each can fail.

Tiers: `tex` for every test that needs TeX; `slow` for those that train (the
generator's --quick run, and its full run, which checks every claim on the
real numbers: minutes). The rest are fast unit tests.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
WRITTEN = REPO / "written"
DOCS = ("theory", "review", "report")
TOOLS = ("latexmk", "pdflatex", "chktex", "pdftotext")
INSTALL_HINT = (
    "apt-get install latexmk texlive-latex-base texlive-latex-recommended "
    "texlive-latex-extra lmodern chktex poppler-utils"
)
WORD_LIMIT = 350
WINDOW = 8  # a leak is any run of WINDOW consecutive solution words
BUILD_TIMEOUT = 900
QUICK_ASSETS_TIMEOUT = 600


# --------------------------------------------------------------------------
# helpers: tools, temporary copies, builds
# --------------------------------------------------------------------------


def require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"missing tools: {', '.join(missing)}. Install them with:\n  {INSTALL_HINT}",
            pytrace=False,
        )


def copy_written(dest: Path) -> Path:
    """Copy written/ without build products or generated assets."""
    target = dest / "written"
    shutil.copytree(
        WRITTEN,
        target,
        ignore=shutil.ignore_patterns("build", "generated", "__pycache__"),
    )
    return target


def run_group(cmd, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run `cmd` in a new process group; on timeout kill the whole group and fail."""
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(
            f"{' '.join(map(str, cmd))} exceeded {timeout} s; its process group was "
            f"killed.\n{stdout[-2000:]}\n{stderr[-2000:]}",
            pytrace=False,
        )
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def run_build(kit: Path, *targets: str) -> subprocess.CompletedProcess:
    return run_group(["bash", str(kit / "build.sh"), *targets], kit, BUILD_TIMEOUT)


def build_or_fail(kit: Path, *targets: str) -> Path:
    proc = run_build(kit, *targets)
    if proc.returncode != 0:
        pytest.fail(
            f"build.sh {' '.join(targets)} failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    return kit / "build"


def pdf_text(pdf: Path) -> str:
    assert pdf.is_file(), f"{pdf} was not built"
    proc = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# --------------------------------------------------------------------------
# fixture assets for the solutions report (the real ones come from
# written/make_report_assets.py)
# --------------------------------------------------------------------------

FIXTURE_VALUES = {
    "SoftmaxValAcc": "71.73\\%",
    "SoftmaxTestAcc": "71.37\\%",
    "SoftmaxFinalTrainAcc": "70.11\\%",
    "SoftmaxFinalValAcc": "71.72\\%",
    "LinearSoftmaxValAcc": "90.95\\%",
    "LinearSoftmaxTestAcc": "90.85\\%",
    "TwoLayerValAcc": "97.59\\%",
    "TwoLayerTestAcc": "97.41\\%",
    "TwoLayerFinalTrainAcc": "97.12\\%",
    "TwoLayerFinalValAcc": "97.58\\%",
    "SecondsPerEpoch": "3.217",
    "RecallTable": "\\begin{tabular}{cc}\\toprule Class & Recall \\\\ \\midrule "
    "0 & 55.55\\% \\\\ \\bottomrule\\end{tabular}",
    "SoftmaxDeadPhrase": "classes 4 and 6 have test recall below 1.0\\%",
    "LinearMinRecall": "83.21\\%",
    "BestLR": "0.5",
    "BestLRValAcc": "96.66\\%",
    "SmallestLR": "0.001",
    "SmallLRPlateauEpochs": "7",
    "SmallLRPlateauAcc": "11.22\\%",
    "SmallLRFinalValAcc": "66.61\\%",
    "LargestLRDips": "5",
    "LargestLRMaxDip": "0.7",
    "LargestLRStdErr": "0.31",
    "HugeLR": "20",
    "HugeLRLossRises": "6",
    "HugeLREpochSteps": "8",
    "HugeLRMinValAcc": "44.44\\%",
    "HugeLRMaxValAcc": "77.77\\%",
    "BestReg": "0.01",
    "BestRegValAcc": "95.55\\%",
    "LargestRegValAcc": "12.34\\%",
    "SecondRegValAcc": "43.21\\%",
    "SweepLR": "0.2",
    "StepsPerEpoch": "1,234",
    "MaxEtaLambda": "0.3",
    "TunedConfig": "two-layer network, learning rate 0.1, regularization "
    "0.0001, 128 hidden units, batch size 64, 20 epochs",
    "TunedValAcc": "97.95\\%",
    "TunedTestAcc": "97.83\\%",
    "TuningCandidates": "17",
    "TunedValStdErr": "0.44",
    "TunedGap": "0.13",
    "BestLREtaLambda": "0.003",
    "BestLRDecay": "0.12",
    "TunedEtaLambda": "0.0002",
    "TunedDecay": "0.87",
    "ValidationSize": "11,111",
}
LR_SETTINGS = ("1", "0.1", "0.05", "0.01")
REG_SETTINGS = ("1", "0.1", "0.01", "0.001", "0.0001")
FIGURES = ("softmax_curves.png", "twolayer_curves.png", "lr_sweep.png", "reg_sweep.png")


def _sweep_rows(settings, first, second) -> str:
    """Body rows of a sweep table, as the generator writes them (three cells)."""
    return " ".join(f"${s}$ & {a} & {b}\\% \\\\" for s, a, b in zip(settings, first, second))


def tiny_png(path: Path, width: int = 64, height: int = 40) -> None:
    """A grey-framed white RGB PNG, written without third-party packages."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type: none
        for x in range(width):
            edge = x in (0, width - 1) or y in (0, height - 1)
            row += bytes([128, 128, 128] if edge else [255, 255, 255])
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def write_fixture_assets(kit: Path) -> None:
    gen = kit / "generated"
    gen.mkdir(exist_ok=True)
    lines = ["% Fixture written by tests/test_written.py (dummy values)."]
    for name, value in FIXTURE_VALUES.items():
        lines.append(f"\\newcommand{{\\{name}}}{{{value}}}")
    lr = _sweep_rows(LR_SETTINGS, ("0.111", "0.222", "0.333", "0.444"),
                     ("11.35", "92.04", "91.88", "89.61"))
    reg = _sweep_rows(REG_SETTINGS, ("1.1\\%", "2.2\\%", "3.3\\%", "4.4\\%", "5.5\\%"),
                      ("11.35", "78.52", "89.93", "91.70", "91.81"))
    lines.append(f"\\newcommand{{\\LRSweepRows}}{{{lr}}}")
    lines.append(f"\\newcommand{{\\RegSweepRows}}{{{reg}}}")
    (gen / "report_values.tex").write_text("\n".join(lines) + "\n")
    for fig in FIGURES:
        tiny_png(gen / fig)


# --------------------------------------------------------------------------
# session fixtures: independent builds
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kit(tmp_path_factory) -> Path:
    require_tools()
    return copy_written(tmp_path_factory.mktemp("written_main"))


@pytest.fixture(scope="session")
def student_build(kit) -> Path:
    return build_or_fail(kit, "student")


@pytest.fixture(scope="session")
def solutions_build(kit) -> Path:
    return build_or_fail(kit, "theory_solutions", "review_solutions")


@pytest.fixture(scope="session")
def report_solutions_build(tmp_path_factory) -> Path:
    require_tools()
    kit = copy_written(tmp_path_factory.mktemp("written_report"))
    write_fixture_assets(kit)
    return build_or_fail(kit, "report_solutions")


@pytest.fixture
def solutions_dirs(request):
    """Lazily build only the solutions needed by a parametrized test."""

    def get(doc: str) -> Path:
        if doc == "report":
            return request.getfixturevalue("report_solutions_build")
        return request.getfixturevalue("solutions_build")

    return get


# --------------------------------------------------------------------------
# extraction of solution text from the .tex sources
# --------------------------------------------------------------------------

SOLUTION_ENV = re.compile(
    r"\\begin\{(solution|instructoronly)\}(?:\[[^\]]*\])?(.*?)\\end\{\1\}", re.S
)
IFSOLUTIONS = re.compile(r"\\ifsolutions(.*?)(?:\\else|\\fi)", re.S)
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
BREAK = " \u00a7 "  # segment break (math, references, structure)


def strip_comments(tex: str) -> str:
    return "\n".join(re.sub(r"(?<!\\)%.*", "", line) for line in tex.splitlines())


def solution_sources(tex: str) -> list[str]:
    """Bodies of solution/instructoronly environments and of the true
    branches of \\ifsolutions in the document body."""
    body = strip_comments(tex).split("\\begin{document}", 1)[1]
    parts = [m.group(2) for m in SOLUTION_ENV.finditer(body)]
    rest = SOLUTION_ENV.sub(" ", body)
    parts += [m.group(1) for m in IFSOLUTIONS.finditer(rest)]
    return parts


def prose_segments(src: str) -> list[str]:
    """Runs of plain prose: math, references and structure are cut out."""
    s = src
    s = re.sub(r"\\\[.*?\\\]", BREAK, s, flags=re.S)
    s = re.sub(
        r"\\begin\{(equation|align|gather|multline)(\*?)\}.*?\\end\{\1\2\}",
        BREAK,
        s,
        flags=re.S,
    )
    s = re.sub(r"\\\(.*?\\\)", BREAK, s, flags=re.S)
    s = re.sub(r"\$[^$]*\$", BREAK, s)
    s = re.sub(r"\\(cite|ref|eqref|label|begin|end)\{[^}]*\}(\[[^\]]*\])?", BREAK, s)
    # A grading guide's point marks: their arguments are typeset as labels.
    s = re.sub(r"\\(guidepart|award|altaward|deduct|points)\{[^}]*\}(\{[^}]*\})?", BREAK, s)
    s = re.sub(r"\\(emph|textbf|textit|textsc|texttt|textsf|mbox|text)\s*\{", "{", s)
    s = s.replace("\\%", "%").replace("\\@", "").replace("\\&", "&")
    s = re.sub(r"\\[A-Za-z]+\*?", BREAK, s)
    s = re.sub(r"\\.", " ", s)
    s = s.replace("~", " ").replace("{", "").replace("}", "")
    return [seg for seg in re.split(r"[.!?;:\u00a7]", s) if seg.strip()]


def normalize_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(f"[{DASHES}]\\s*\\n\\s*", "", text)  # hyphenated line breaks
    text = re.sub(f"[{DASHES}]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.split()


def solution_windows(tex: str) -> list[list[str]]:
    """For each prose segment of >= WINDOW words: its WINDOW-word windows."""
    out = []
    for part in solution_sources(tex):
        for seg in prose_segments(part):
            words = normalize_words(seg)
            if len(words) >= WINDOW:
                out.append(
                    [" ".join(words[i : i + WINDOW]) for i in range(len(words) - WINDOW + 1)]
                )
    return out


def joined(text: str) -> str:
    return " " + " ".join(normalize_words(text)) + " "


# --------------------------------------------------------------------------
# tests: tools, lint, builds
# --------------------------------------------------------------------------


@pytest.mark.tex
def test_tools_installed():
    require_tools()


@pytest.mark.tex
def test_chktex_lint_clean(kit):
    proc = run_build(kit, "lint")
    assert proc.returncode == 0, f"chktex warnings:\n{proc.stdout}\n{proc.stderr}"
    assert "chktex clean" in proc.stdout


@pytest.mark.tex
def test_lint_fails_on_a_warning(tmp_path):
    """The lint really fails when chktex reports something."""
    require_tools()
    kit = copy_written(tmp_path)
    theory = kit / "theory.tex"
    theory.write_text(
        theory.read_text().replace("\\end{document}", "See the figure 1 ... \\end{document}")
    )
    proc = run_build(kit, "lint")
    assert proc.returncode != 0, "lint passed although chktex must warn about '...'"


@pytest.mark.slow
@pytest.mark.tex
@pytest.mark.parametrize("doc", DOCS)
def test_student_pdf_built(student_build, doc):
    pdf = student_build / f"{doc}.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.tex
@pytest.mark.parametrize("doc", DOCS)
def test_solutions_pdf_built(solutions_dirs, doc):
    pdf = solutions_dirs(doc) / f"{doc}_solutions.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 1000


UNDEFINED = re.compile(
    r"(Reference|Citation)[^\n]*undefined|There were undefined|multiply[ -]defined"
)


@pytest.mark.tex
@pytest.mark.parametrize("doc", DOCS)
def test_no_undefined_references(student_build, solutions_dirs, doc):
    for log in (student_build / f"{doc}.log", solutions_dirs(doc) / f"{doc}_solutions.log"):
        text = log.read_text(errors="replace")
        bad = [line for line in text.splitlines() if UNDEFINED.search(line)]
        assert not bad, f"{log.name}: {bad}"


@pytest.mark.tex
def test_review_cites_the_paper(student_build, solutions_build):
    for pdf in (student_build / "review.pdf", solutions_build / "review_solutions.pdf"):
        text = pdf_text(pdf)
        assert "Gaier" in text and "Weight agnostic neural networks" in text
        assert "[?]" not in text


# --------------------------------------------------------------------------
# tests: no solution text in the student sheets
# --------------------------------------------------------------------------


@pytest.mark.tex
@pytest.mark.parametrize("doc", DOCS)
def test_student_pdf_has_no_solution_text(student_build, solutions_dirs, doc):
    tex = (WRITTEN / f"{doc}.tex").read_text()
    windows = solution_windows(tex)
    assert len(windows) >= 5, f"too few solution sentences extracted from {doc}.tex"

    student = joined(pdf_text(student_build / f"{doc}.pdf"))
    leaks = [w for seg in windows for w in seg if f" {w} " in student]
    assert not leaks, f"solution text in build/{doc}.pdf: {leaks[:5]}"

    # The check can fail: the same sentences are found in the solutions PDF.
    solutions = joined(pdf_text(solutions_dirs(doc) / f"{doc}_solutions.pdf"))
    missing = [seg[0] for seg in windows if not any(f" {w} " in solutions for w in seg)]
    assert not missing, f"extracted solution text not found in {doc}_solutions.pdf: {missing[:5]}"


@pytest.mark.tex
@pytest.mark.parametrize("doc", DOCS)
def test_student_sheet_has_answer_boxes(student_build, doc):
    tex = strip_comments((WRITTEN / f"{doc}.tex").read_text())
    n_solutions = len(re.findall(r"\\begin\{solution\}", tex))
    text = pdf_text(student_build / f"{doc}.pdf")
    assert n_solutions >= 1
    assert text.count("Answer") >= n_solutions
    assert "Solution" not in text


@pytest.mark.tex
def test_report_solutions_use_generated_values(report_solutions_build):
    text = pdf_text(report_solutions_build / "report_solutions.pdf")
    for value in FIXTURE_VALUES.values():
        if value.startswith("\\begin"):
            continue  # a whole tabular: its cells are probed below
        probe = value.replace("\\%", "%").split(",")[0]
        assert probe in text, f"generated value {probe!r} missing from report_solutions.pdf"
    for value in ("92.04", "91.81", "0.333", "4.4%", "55.55%"):  # cells of the tables
        assert value in text


@pytest.mark.tex
def test_report_solutions_fail_without_generated(tmp_path):
    """Missing generated/ and no generator: the build must fail loudly."""
    require_tools()
    kit = copy_written(tmp_path)
    (kit / "make_report_assets.py").unlink(missing_ok=True)
    proc = run_build(kit, "report_solutions")
    assert proc.returncode != 0
    assert "generated/report_values.tex" in proc.stderr
    assert not (kit / "build" / "report_solutions.pdf").exists()


@pytest.mark.tex
def test_report_latex_itself_fails_without_generated(tmp_path):
    """Even when latexmk is called directly, the solutions report stops."""
    require_tools()
    kit = copy_written(tmp_path)
    proc = subprocess.run(
        [
            "latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
            "-usepretex=\\def\\withsolutions{}", "-outdir=build",
            "-jobname=report_solutions", "report.tex",
        ],
        cwd=kit, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )
    assert proc.returncode != 0
    log = (kit / "build" / "report_solutions.log").read_text(errors="replace")
    assert "generated/report_values.tex not found" in log


# --------------------------------------------------------------------------
# tests: the model review
# --------------------------------------------------------------------------

REVIEW_SPAN = re.compile(r"% MODEL-REVIEW-BEGIN\n(.*?)% MODEL-REVIEW-END", re.S)


def review_words(tex: str) -> list[str]:
    """Words of the model review, counted conservatively: a citation counts
    as one word, math and numbers count, hyphenated compounds count as
    several words."""
    spans = REVIEW_SPAN.findall(tex)
    assert len(spans) == 2, "expected one marked model answer per review question"
    text = strip_comments(" ".join(spans))
    text = re.sub(r"\\cite\{[^}]*\}", " [1] ", text)
    text = re.sub(r"\\[A-Za-z]+", " ", text)
    text = text.replace("\\%", "%").replace("~", " ")
    return [w for w in re.split(r"[\s\-/]+", text) if re.search(r"[A-Za-z0-9]", w)]


def test_model_review_word_limit():
    words = review_words((WRITTEN / "review.tex").read_text())
    assert 150 <= len(words) <= WORD_LIMIT, f"model review has {len(words)} words"


# --------------------------------------------------------------------------
# numeric checks of the math stated in theory.tex
# --------------------------------------------------------------------------


def reference_softmax(z):
    """Numerically stable softmax over the last axis."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_vector(softmax_fn, z: np.ndarray) -> np.ndarray:
    """Apply a softmax written either for a batch (N, K) or a vector (K,)."""
    out = np.asarray(softmax_fn(z[None, :]), dtype=np.float64)
    return out.reshape(-1)


def check_softmax_jacobian(softmax_fn, K: int = 7, trials: int = 5, seed: int = 0) -> None:
    """ds_i/dz_j = s_i (delta_ij - s_j), i.e. J = diag(s) - s s^T."""
    rng = np.random.default_rng(seed)
    eps = 1e-6
    for _ in range(trials):
        z = rng.normal(scale=3.0, size=K)
        s = _softmax_vector(softmax_fn, z)
        assert np.isclose(s.sum(), 1.0) and np.all(s > 0)
        J = np.diag(s) - np.outer(s, s)
        numeric = np.empty((K, K))
        for j in range(K):
            e = np.zeros(K)
            e[j] = eps
            numeric[:, j] = (
                _softmax_vector(softmax_fn, z + e) - _softmax_vector(softmax_fn, z - e)
            ) / (2 * eps)
        np.testing.assert_allclose(numeric, J, atol=1e-8, rtol=1e-6)
        np.testing.assert_allclose(J, J.T)
        np.testing.assert_allclose(J @ np.ones(K), 0.0, atol=1e-12)


def check_ce_gradient(softmax_fn, K: int = 7, trials: int = 5, seed: int = 1) -> None:
    """Gradient of -log softmax(z)[y] in z is p - onehot(y)."""
    rng = np.random.default_rng(seed)
    eps = 1e-6
    for _ in range(trials):
        z = rng.normal(scale=3.0, size=K)
        y = int(rng.integers(K))

        def loss(v):
            return -np.log(_softmax_vector(softmax_fn, v)[y])

        numeric = np.empty(K)
        for j in range(K):
            e = np.zeros(K)
            e[j] = eps
            numeric[j] = (loss(z + e) - loss(z - e)) / (2 * eps)
        p = _softmax_vector(softmax_fn, z)
        np.testing.assert_allclose(numeric, p - np.eye(K)[y], atol=1e-8, rtol=1e-6)


def solutions_softmax():
    """The softmax of the solutions package: the written answers must match the code."""
    from models import _baseNetwork  # the solutions package (tests/helpers.py)

    return _baseNetwork().softmax


def test_softmax_jacobian():
    check_softmax_jacobian(solutions_softmax())


def test_cross_entropy_gradient():
    check_ce_gradient(solutions_softmax())


def test_cross_entropy_gradient_is_the_models_backward():
    """The solutions' SoftmaxRegression backward pass starts from p - onehot(y) / N."""
    from models import SoftmaxRegression

    rng = np.random.default_rng(3)
    model = SoftmaxRegression(input_size=5, num_classes=4)
    model.weights['W1'] = np.abs(rng.normal(size=(5, 4)))  # positive scores: ReLU passes all
    X, y = np.abs(rng.normal(size=(6, 5))), rng.integers(0, 4, size=6)
    model.forward(X, y, mode='train')
    p = solutions_softmax()(X @ model.weights['W1'])
    np.testing.assert_allclose(model.gradients['W1'], X.T @ (p - np.eye(4)[y]) / 6, rtol=1e-10)


def generate_quick_assets(kit: Path) -> str:
    """Run the real generator in its quick mode into kit/generated; its output."""
    proc = run_group(
        [sys.executable, str(kit / "make_report_assets.py"), "--quick",
         "--out", str(kit / "generated")],
        kit, QUICK_ASSETS_TIMEOUT,
    )
    assert proc.returncode == 0, f"make_report_assets.py --quick failed:\n{proc.stderr[-3000:]}"
    return (kit / "generated" / "report_values.tex").read_text()


def generated_values(text: str) -> dict:
    return dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*?)\}\n(?=\\newcommand|$)", text,
                           re.S))


@pytest.fixture(scope="session")
def quick_kit(tmp_path_factory) -> Path:
    """A clean copy of written/ with the real generator's --quick assets."""
    require_tools()
    root = tmp_path_factory.mktemp("written_quick")
    kit = copy_written(root)
    (root / 'solutions').symlink_to(WRITTEN.parent / 'solutions')
    generate_quick_assets(kit)
    return kit


@pytest.mark.slow
@pytest.mark.tex
def test_everything_builds_from_a_clean_copy_with_the_real_generator(quick_kit):
    """What CI promises: every PDF, the solutions report built from what the
    solutions package produces. The generator runs in its quick mode (one
    epoch per run on a subset, seconds), so the test does not depend on the
    machine's speed; the report's numbers come from the full run
    (`python written/make_report_assets.py`, see the module docstring)."""
    kit = quick_kit
    values = (kit / 'generated' / 'report_values.tex').read_text()
    assert values.startswith('% Generated by make_report_assets.py --quick.')
    assert (kit / 'generated' / 'tuned_config.yaml').is_file()
    build = build_or_fail(kit, 'all')
    for doc in DOCS:
        assert (build / f'{doc}.pdf').is_file() and (build / f'{doc}_solutions.pdf').is_file()
    macros = generated_values(values)
    text = pdf_text(build / 'report_solutions.pdf')
    for name in ('TwoLayerTestAcc', 'LinearSoftmaxValAcc', 'TunedValAcc', 'BestRegValAcc'):
        assert macros[name].replace('\\%', '%') in text, name
    assert macros['TunedConfig'].split(',')[0] in text


@pytest.mark.slow
@pytest.mark.tex
def test_generator_macros_are_what_report_tex_uses(quick_kit):
    """Every value the generator writes is typeset by report.tex, every macro of
    the fixture exists in the generator, and the sweep tables' rows have as many
    cells as the headers report.tex shares with the student sheet."""
    macros = generated_values((quick_kit / 'generated' / 'report_values.tex').read_text())
    fixture = set(FIXTURE_VALUES) | {'LRSweepRows', 'RegSweepRows'}
    assert set(macros) == fixture, (set(macros) ^ fixture)
    report = strip_comments((WRITTEN / 'report.tex').read_text())
    unused = [name for name in macros if f'\\{name}' not in report]
    assert not unused, f"generated but never typeset by report.tex: {unused}"

    sys.path.insert(0, str(WRITTEN))
    try:
        import make_report_assets as generator
    finally:
        sys.path.remove(str(WRITTEN))
    for setting, columns, rows, settings in (
        ('Learning rate', generator.LR_COLUMNS, macros['LRSweepRows'], LR_SETTINGS),
        ('Regularization strength', generator.REG_COLUMNS, macros['RegSweepRows'],
         REG_SETTINGS),
    ):
        header = ' & '.join((setting,) + columns) + ' \\\\'
        assert header in report, f"report.tex's table header is not {header!r}"
        body = [r for r in rows.strip().split('\\\\') if r.strip()]
        assert len(body) == len(settings)
        for row, value in zip(body, settings):
            cells = [c.strip() for c in row.split('&')]
            assert len(cells) == 1 + len(columns) and cells[0] == f'${value}$', row


# --------------------------------------------------------------------------
# the student sheets: the course's numbering, one problem per page
# --------------------------------------------------------------------------

COURSE_PROBLEMS = {
    'theory': ('2.1', '2.2', '2.3', '2.4', '2.5', '3.6', '3.7'),
    'review': ('4.8', '4.9'),
}
COURSE_SECTIONS = {
    'theory': ('1 Collaborators', '2 Optimization', '3 Directed acyclic graphs'),
    'review': ('4 Paper review',),
}


def pdf_pages(pdf: Path) -> list[str]:
    return pdf_text(pdf).split('\f')


@pytest.mark.tex
@pytest.mark.parametrize('doc', sorted(COURSE_PROBLEMS))
def test_student_sheet_numbering_and_one_problem_per_page(student_build, doc):
    pages = pdf_pages(student_build / f'{doc}.pdf')
    heading = re.compile(r'^(\d\.\d)\s+[A-Z]', re.M)  # a problem's number, then its title
    found = []
    for number, page in enumerate(pages, 1):
        here = heading.findall(page)
        assert len(here) <= 1, f"{doc}.pdf page {number} holds problems {here}"
        if here:
            assert 'Answer' in page, f"{doc}.pdf page {number}: problem {here[0]} without its box"
            found.append(here[0])
    assert tuple(found) == COURSE_PROBLEMS[doc]
    text = ' '.join(' '.join(pages).split())
    for section in COURSE_SECTIONS[doc]:
        assert section in text, f"{doc}.pdf lacks the section heading {section!r}"


def test_every_theory_problem_has_a_grading_guide():
    tex = strip_comments((WRITTEN / 'theory.tex').read_text())
    body = tex.split('\\begin{document}', 1)[1]
    problems = re.split(r'\\problem\{', body)[1:]
    assert len(problems) == len(COURSE_PROBLEMS['theory'])
    for number, problem in zip(COURSE_PROBLEMS['theory'], problems):
        guide = re.search(r'\\begin\{instructoronly\}(.*?)\\end\{instructoronly\}', problem, re.S)
        assert guide and 'Grading guide' in guide.group(1), f"problem {number}: no grading guide"
        assert re.search(r'\d+ points?', guide.group(1)) and 'Common errors' in guide.group(1), \
            f"problem {number}: the guide needs points per step and common errors"


@pytest.mark.tex
def test_grading_guides_are_only_in_the_solutions(student_build, solutions_build):
    for doc in ('theory', 'review'):
        assert 'Grading guide' not in pdf_text(student_build / f'{doc}.pdf')
        assert 'Grading guide' in pdf_text(solutions_build / f'{doc}_solutions.pdf')


@pytest.mark.tex
def test_review_links_the_paper_and_its_interactive_page(student_build):
    text = pdf_text(student_build / 'review.pdf')
    assert 'arxiv.org/abs/1906.04358' in text and 'weightagnostic.github.io' in text


# --------------------------------------------------------------------------
# claims of the written answers, checked on the solutions package
# --------------------------------------------------------------------------


def softmax_models():
    """The homework's SoftmaxRegression and the same model without the ReLU."""
    sys.path.insert(0, str(WRITTEN))
    try:
        import make_report_assets as generator
    finally:
        sys.path.remove(str(WRITTEN))
    from models import SoftmaxRegression

    return SoftmaxRegression, generator.linear_softmax_class()


def batch_loss(model_class, W, X, y):
    model = model_class(input_size=X.shape[1], num_classes=W.shape[1])
    model.weights['W1'] = W
    return model.forward(X, y, mode='train')[0], model.gradients['W1']


def test_softmax_regression_with_its_relu_is_not_convex():
    """theory.tex, remark after 2.3, without the penalty (lambda = 0): flat
    regions with zero gradient and loss log C, and a midpoint above the chord;
    the linear model has neither. The penalised loss: the test after next."""
    relu_model, linear_model = softmax_models()
    rng = np.random.default_rng(5)
    X = np.abs(rng.normal(size=(20, 6)))
    y = rng.integers(0, 4, size=20)
    # Every score negative: constant loss log C, zero gradient.
    W = -np.abs(rng.normal(size=(6, 4)))
    loss, grad = batch_loss(relu_model, W, X, y)
    assert np.isclose(loss, np.log(4)) and np.all(grad == 0)
    # A midpoint above the chord: true class's column from negative to positive.
    a, b = np.zeros((6, 4)), np.zeros((6, 4))
    a[:, 0], b[:, 0] = -1.0, 1.0
    y0 = np.zeros(20, dtype=int)
    la, lb, lm = (batch_loss(relu_model, w, X, y0)[0] for w in (a, b, (a + b) / 2))
    assert lm > (la + lb) / 2 + 1e-3
    # The linear model: no midpoint violation on random pairs.
    for _ in range(200):
        a, b = rng.normal(scale=2.0, size=(2, 6, 4))
        la, lb, lm = (batch_loss(linear_model, w, X, y)[0] for w in (a, b, (a + b) / 2))
        assert lm <= (la + lb) / 2 + 1e-12


def test_numeric_checks_can_fail():
    """A wrong 'softmax' (no normalization) must be rejected."""
    with pytest.raises(AssertionError):
        check_softmax_jacobian(lambda z: np.exp(np.asarray(z) - 1.0))
    with pytest.raises(AssertionError):
        check_ce_gradient(lambda z: reference_softmax(2.0 * np.asarray(z)))


# --------------------------------------------------------------------------
# the grading guides add up, and so does the grading page
# --------------------------------------------------------------------------

HEADING = re.compile(r"\\(problem|reportsection)\{((?:[^{}]|\{[^{}]*\})*)\}")
GUIDEPART = re.compile(r"\\guidepart\{((?:[^{}]|\{[^{}]*\})*)\}\{(\d+)\}")
AWARD = re.compile(r"\\award\{(\d+)\}")
ALTAWARD = re.compile(r"\\altaward\{(\d+)\}")
POINTS = re.compile(r"\\points\{(\d+)\}")
INSTRUCTOR = re.compile(r"\\begin\{instructoronly\}(.*?)\\end\{instructoronly\}", re.S)


def graded_items(tex: str) -> list[dict]:
    """Every problem (or report section) of a document with its points, the
    points its question shows per part, and its guide's parts and steps."""
    body = strip_comments(tex).split("\\begin{document}", 1)[1]
    heads = list(HEADING.finditer(body))
    items = []
    for i, head in enumerate(heads):
        segment = body[head.end():heads[i + 1].start() if i + 1 < len(heads) else len(body)]
        title_points = POINTS.findall(head.group(2))
        guides = "".join(INSTRUCTOR.findall(segment))
        question = SOLUTION_ENV.sub(" ", segment)
        parts = []
        pieces = GUIDEPART.split(guides)  # text, label, points, text, label, points, ...
        for label, points, text in zip(pieces[1::3], pieces[2::3], pieces[3::3]):
            parts.append({"label": label, "points": int(points),
                          "awards": [int(a) for a in AWARD.findall(text)],
                          "alternatives": [int(a) for a in ALTAWARD.findall(text)]})
        items.append({"title": " ".join(head.group(2).split()),
                      "points": int(title_points[0]) if title_points else None,
                      "question_points": [int(p) for p in POINTS.findall(question)],
                      "parts": parts})
    return items


def rubric_errors(tex: str) -> list[str]:
    """Where a guide does not add up to its question's points."""
    errors = []
    for item in graded_items(tex):
        name, parts = item["title"][:40], item["parts"]
        if item["points"] is None:
            errors.append(f"{name}: no points in its heading")
            continue
        if not parts:
            errors.append(f"{name}: no guide parts (\\guidepart)")
            continue
        if sum(p["points"] for p in parts) != item["points"]:
            errors.append(f"{name}: guide parts add up to {sum(p['points'] for p in parts)}, "
                          f"the question is worth {item['points']}")
        shown = item["question_points"]
        if shown and shown != [p["points"] for p in parts]:
            errors.append(f"{name}: the question shows {shown}, the guide's parts are "
                          f"{[p['points'] for p in parts]}")
        for part in parts:
            if sum(part["awards"]) != part["points"]:
                errors.append(f"{name}, {part['label']}: steps add up to "
                              f"{sum(part['awards'])}, the part is worth {part['points']}")
            if sum(part["alternatives"]) > part["points"]:
                errors.append(f"{name}, {part['label']}: another route is worth more than "
                              f"the part")
    return errors


@pytest.mark.parametrize("doc", DOCS)
def test_every_guide_adds_up_to_its_question(doc):
    tex = (WRITTEN / f"{doc}.tex").read_text()
    assert len(graded_items(tex)) >= 2
    assert rubric_errors(tex) == []


def test_the_guide_check_can_fail():
    tex = (WRITTEN / "theory.tex").read_text()
    assert "\\award{2} The matrix form" in tex
    broken = tex.replace("\\award{2} The matrix form", "\\award{1} The matrix form")
    assert any("steps add up to 5" in e for e in rubric_errors(broken))
    broken = tex.replace("\\item \\points{6} Derive the partial", "\\item \\points{5} Derive "
                         "the partial")
    assert any("the question shows [5, 4]" in e for e in rubric_errors(broken))


def grading_table() -> dict:
    """The rows of written/GRADING.md's table: part -> (description, points)."""
    rows = {}
    for line in (WRITTEN / "GRADING.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"\**\+?\d+\**", cells[3]):
            rows[cells[0].strip("*")] = (cells[1], int(cells[3].strip("*+")))
    return rows


def test_grading_page_adds_up_with_every_rubric():
    """GRADING.md: each part's points are what its own rubric gives, and the
    parts add up to the total it states."""
    import json

    import yaml

    rows = grading_table()
    assert set(rows) == {"code", "notebook", "report", "theory", "review", "total",
                         "extra credit"}, rows
    rubric = yaml.safe_load((REPO / "autograder" / "rubric.yaml").read_text())
    assert rows["code"][1] == sum(t["points"] for t in rubric["tests"].values()) == 100

    notebook = json.loads((REPO / "solutions" / "hw1.ipynb").read_text())
    cell_points = [c["metadata"]["nbgrader"]["points"] for c in notebook["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade")]
    assert rows["notebook"][1] == sum(cell_points)
    assert [int(n) for n in re.findall(r"\b(\d+)\b", rows["notebook"][0])] == cell_points

    items = {doc: graded_items((WRITTEN / f"{doc}.tex").read_text()) for doc in DOCS}
    report = [i["points"] for i in items["report"]]
    assert rows["report"][1] == sum(report)
    assert " + ".join(map(str, report)) in rows["report"][0]
    credit = [i for i in items["theory"] if "Extra credit" in i["title"]]
    theory = [i["points"] for i in items["theory"] if i not in credit]
    assert rows["theory"][1] == sum(theory)
    assert rows["extra credit"][1] == sum(i["points"] for i in credit) > 0
    assert rows["review"][1] == sum(i["points"] for i in items["review"])
    parts = ("code", "notebook", "report", "theory", "review")
    assert rows["total"][1] == sum(rows[p][1] for p in parts) == 200
    text = (WRITTEN / "GRADING.md").read_text()
    assert f"add up to **{rows['total'][1]}**" in text
    assert len(text.split()) < 650, "GRADING.md must stay one page"
    # Each sheet states its own total, and it is the page's.
    for doc, total in (("theory", rows["theory"][1]), ("review", rows["review"][1]),
                       ("report", rows["report"][1])):
        tex = " ".join((WRITTEN / f"{doc}.tex").read_text().split())
        assert f"Total: {total} points" in tex, doc


# --------------------------------------------------------------------------
# the numeric claims of the written answers
# --------------------------------------------------------------------------


def generator_module():
    sys.path.insert(0, str(WRITTEN))
    try:
        import make_report_assets as generator
    finally:
        sys.path.remove(str(WRITTEN))
    return generator


def test_theory_quotes_the_penalised_loss_the_generator_checks():
    generator = generator_module()
    theory = " ".join((WRITTEN / "theory.tex").read_text().split())
    assert f"penalised loss: {generator.THEORY_PENALISED_LOSS} in the reference run" in theory
    assert float(generator.THEORY_PENALISED_LOSS) < np.log(10)


def test_penalised_loss_of_softmax_regression_is_not_convex():
    """theory.tex, remark after 2.3: on the cone K where every score is negative
    the penalised loss is log C + lambda/2 |W|^2 with gradient lambda W, and the
    first-order condition at A = t A0 in K fails for small t against any B whose
    penalised loss is below log C."""
    from models import SoftmaxRegression

    generator = generator_module()
    rng = np.random.default_rng(7)
    X = np.abs(rng.normal(size=(30, 6)))
    y = np.argmax(X @ rng.normal(size=(6, 3)), axis=1)  # labels a linear model can learn
    lam = 1e-3
    model = SoftmaxRegression(input_size=6, num_classes=3)

    def penalised(W):
        model.weights["W1"] = W
        return generator.penalised_loss(model, X, y, lam)

    def penalised_gradient(W):
        model.weights["W1"] = W
        model.forward(X, y, mode="train")
        return model.gradients["W1"] + lam * W

    A0 = -np.abs(rng.normal(size=(6, 3)))
    assert np.all(X @ A0 < 0)
    assert np.isclose(penalised(A0), np.log(3) + lam / 2 * np.sum(A0 ** 2))
    np.testing.assert_allclose(penalised_gradient(A0), lam * A0)
    # B: a few hundred steps of gradient descent on the penalised loss.
    B = np.abs(rng.normal(scale=0.1, size=(6, 3)))
    for _ in range(300):
        B -= 0.5 * penalised_gradient(B)
    assert penalised(B) < np.log(3) - 0.05
    for t in (1e-1, 1e-2, 1e-3):
        A = t * A0
        bound = penalised(A) + np.sum(penalised_gradient(A) * (B - A))
        assert penalised(B) < bound  # the first-order condition of convexity fails


def reference_measurements():
    """Measurements shaped as make_report_assets.measure() returns them, with the
    reference run's numbers (rounded): every claim of the report holds for them."""
    from types import SimpleNamespace as Run

    def run(valid, train_acc=None, train_loss=None, test=None, lr=0.1, reg=0.001):
        train_acc = train_acc or [v - 0.005 for v in valid]
        return Run(valid_acc=list(valid), train_acc=list(train_acc),
                   train_loss=list(train_loss or [1.0 - 0.05 * i for i in range(len(valid))]),
                   best_epoch=int(np.argmax(valid)) + 1, test_acc=test or valid[-1],
                   config={"Train": {"learning_rate": lr, "reg": reg}})

    lr_runs = [run([0.919, 0.934, 0.933, 0.946, 0.947, 0.9466, 0.943, 0.944, 0.945, 0.950],
                   train_loss=[0.40, 0.30, 0.28, 0.26, 0.25, 0.24, 0.23, 0.22, 0.21, 0.208]),
               run([0.741, 0.883, 0.901, 0.910, 0.915, 0.919, 0.921, 0.922, 0.926, 0.928],
                   train_loss=[0.9, 0.5, 0.4, 0.36, 0.34, 0.32, 0.31, 0.30, 0.29, 0.283]),
               run([0.344, 0.769, 0.858, 0.884, 0.895, 0.900, 0.906, 0.910, 0.913, 0.916],
                   train_loss=[1.5, 0.8, 0.5, 0.43, 0.40, 0.37, 0.36, 0.35, 0.34, 0.330]),
               run([0.106, 0.106, 0.106, 0.167, 0.333, 0.487, 0.579, 0.673, 0.719, 0.765],
                   train_loss=[2.30, 2.29, 2.28, 2.20, 2.0, 1.7, 1.4, 1.2, 1.05, 0.95])]
    reg_runs = [run([0.100, 0.106, 0.100, 0.106, 0.108, 0.108, 0.106, 0.106, 0.106, 0.106]),
                run([0.100, 0.236, 0.312, 0.336, 0.308, 0.298, 0.306, 0.352, 0.286, 0.386]),
                run([0.676, 0.863, 0.883, 0.890, 0.890, 0.891, 0.893, 0.894, 0.895, 0.896]),
                lr_runs[1],
                run([0.747, 0.885, 0.902, 0.912, 0.919, 0.923, 0.926, 0.927, 0.931, 0.935])]
    return {
        "softmax": run([0.70, 0.75, 0.78, 0.80, 0.81, 0.815, 0.817, 0.818, 0.819, 0.820]),
        "linear": run([0.88, 0.90, 0.91, 0.915, 0.917, 0.918, 0.919, 0.919, 0.9193, 0.9194]),
        "twolayer": lr_runs[1],
        "lr_runs": lr_runs, "reg_runs": reg_runs,
        "huge_lr": run([0.701, 0.665, 0.766, 0.715, 0.769, 0.780, 0.723, 0.799, 0.746, 0.867],
                       train_loss=[1.526, 0.928, 0.856, 0.869, 0.902, 0.896, 0.883, 0.910,
                                   0.823, 0.872]),
        "tuned": run([0.95, 0.96, 0.965, 0.968, 0.97, 0.971, 0.9715, 0.972, 0.9721, 0.9722],
                     test=0.9721),
        "tuned_config": {"Train": {"learning_rate": 1, "reg": 0.0001}},
        "twolayer_config": {"Train": {"learning_rate": 0.1, "reg": 0.001, "batch_size": 64}},
        "softmax_recall": [0.98, 0.0, 0.88, 0.90, 0.94, 0.86, 0.95, 0.92, 0.90, 0.88],
        "linear_recall": [0.98, 0.97, 0.87, 0.90, 0.94, 0.86, 0.95, 0.92, 0.89, 0.88],
        "softmax_penalised": 0.6036,
        "data": (np.zeros(48000), None, None, np.zeros(12000), None, None),
    }


def test_claims_hold_for_the_reference_numbers_and_can_fail():
    """Every claim of the written answers holds for (rounded) reference numbers;
    changing one measurement breaks the claims about it."""
    generator = generator_module()
    m = reference_measurements()
    broken = [claim for claim, holds in generator.claims(m) if not holds]
    assert broken == []

    def broken_after(change):
        changed = reference_measurements()
        change(changed)
        return [claim for claim, holds in generator.claims(changed) if not holds]

    # A dip of lr 1 larger than two standard errors (2 x 0.20 points) is not noise.
    def big_dip(mm):
        mm["lr_runs"][0].valid_acc[6] = 0.940
    assert any("two standard errors" in c for c in broken_after(big_dip))

    def tame_huge_lr(mm):
        mm["huge_lr"].train_loss = sorted(mm["huge_lr"].train_loss, reverse=True)
    assert any("rises from one epoch to the next" in c for c in broken_after(tame_huge_lr))

    def other_penalised_loss(mm):
        mm["softmax_penalised"] = 0.66
    assert any(c.startswith("theory.tex") for c in broken_after(other_penalised_loss))

    def same_decay(mm):
        mm["tuned_config"] = {"Train": {"learning_rate": 1, "reg": 0.001}}
    assert any("weight decay per step" in c for c in broken_after(same_decay))

    def gap(mm):
        mm["tuned"].test_acc = 0.9622
    assert any("differ by less than two standard errors" in c for c in broken_after(gap))


@pytest.mark.slow
def test_full_generator_run_checks_every_claim(tmp_path):
    """The reference numbers: `make_report_assets.py` trains every run (about
    two minutes on two cores, more on a busy machine) and exits 1 naming each
    claim of the written answers that no longer holds."""
    proc = run_group([sys.executable, str(WRITTEN / "make_report_assets.py"), "--out",
                      str(tmp_path / "generated")], WRITTEN, 1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    values = generated_values((tmp_path / "generated" / "report_values.tex").read_text())
    assert set(values) == set(FIXTURE_VALUES) | {"LRSweepRows", "RegSweepRows"}
    assert f"penalised training loss {generator_module().THEORY_PENALISED_LOSS}" in proc.stdout
