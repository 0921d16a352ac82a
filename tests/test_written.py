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

The numeric checks at the end verify the math stated in theory.tex
(softmax Jacobian, softmax + cross-entropy gradient). They take the softmax
implementation as an argument so the solutions package's one can be
plugged in.
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


def test_tools_installed():
    require_tools()


def test_chktex_lint_clean(kit):
    proc = run_build(kit, "lint")
    assert proc.returncode == 0, f"chktex warnings:\n{proc.stdout}\n{proc.stderr}"
    assert "chktex clean" in proc.stdout


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


@pytest.mark.parametrize("doc", DOCS)
def test_student_pdf_built(student_build, doc):
    pdf = student_build / f"{doc}.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 1000


@pytest.mark.parametrize("doc", DOCS)
def test_solutions_pdf_built(solutions_dirs, doc):
    pdf = solutions_dirs(doc) / f"{doc}_solutions.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 1000


UNDEFINED = re.compile(
    r"(Reference|Citation)[^\n]*undefined|There were undefined|multiply[ -]defined"
)


@pytest.mark.parametrize("doc", DOCS)
def test_no_undefined_references(student_build, solutions_dirs, doc):
    for log in (student_build / f"{doc}.log", solutions_dirs(doc) / f"{doc}_solutions.log"):
        text = log.read_text(errors="replace")
        bad = [line for line in text.splitlines() if UNDEFINED.search(line)]
        assert not bad, f"{log.name}: {bad}"


def test_review_cites_the_paper(student_build, solutions_build):
    for pdf in (student_build / "review.pdf", solutions_build / "review_solutions.pdf"):
        text = pdf_text(pdf)
        assert "Gaier" in text and "Weight agnostic neural networks" in text
        assert "[?]" not in text


# --------------------------------------------------------------------------
# tests: no solution text in the student sheets
# --------------------------------------------------------------------------


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


@pytest.mark.parametrize("doc", DOCS)
def test_student_sheet_has_answer_boxes(student_build, doc):
    tex = strip_comments((WRITTEN / f"{doc}.tex").read_text())
    n_solutions = len(re.findall(r"\\begin\{solution\}", tex))
    text = pdf_text(student_build / f"{doc}.pdf")
    assert n_solutions >= 1
    assert text.count("Answer") >= n_solutions
    assert "Solution" not in text


def test_report_solutions_use_generated_values(report_solutions_build):
    text = pdf_text(report_solutions_build / "report_solutions.pdf")
    for value in FIXTURE_VALUES.values():
        if value.startswith("\\begin"):
            continue  # a whole tabular: its cells are probed below
        probe = value.replace("\\%", "%").split(",")[0]
        assert probe in text, f"generated value {probe!r} missing from report_solutions.pdf"
    for value in ("92.04", "91.81", "0.333", "4.4%", "55.55%"):  # cells of the tables
        assert value in text


def test_report_solutions_fail_without_generated(tmp_path):
    """Missing generated/ and no generator: the build must fail loudly."""
    require_tools()
    kit = copy_written(tmp_path)
    (kit / "make_report_assets.py").unlink(missing_ok=True)
    proc = run_build(kit, "report_solutions")
    assert proc.returncode != 0
    assert "generated/report_values.tex" in proc.stderr
    assert not (kit / "build" / "report_solutions.pdf").exists()


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


def test_grading_guides_are_only_in_the_solutions(student_build, solutions_build):
    for doc in ('theory', 'review'):
        assert 'Grading guide' not in pdf_text(student_build / f'{doc}.pdf')
        assert 'Grading guide' in pdf_text(solutions_build / f'{doc}_solutions.pdf')


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
    """theory.tex, remark after 2.3: flat regions with zero gradient and loss
    log C, and a midpoint above the chord; the linear model has neither."""
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
