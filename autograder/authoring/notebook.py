"""The notebook: the student copy nbgrader releases, and what nbgrader's feedback shows.

The instructors' notebook is `solutions/hw1.ipynb`, written with nbgrader's
markers: `### BEGIN SOLUTION` / `### END SOLUTION` around student work and
`### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS` around checks the students
never see. This module provides

- `render_student_notebook(path)`: the released notebook, byte for byte what
  `nbgrader generate_assignment` writes for it (same nbgrader preprocessors,
  same order, same settings), for `student_version/hw1.ipynb`;
- `feedback_preprocessors()`: nbgrader's feedback steps plus one that keeps
  the hidden tests out of the feedback.

The nbgrader course itself (and its sandboxed kernel) is nbcourse.py.
nbgrader is imported only by the functions that need it.
"""
from pathlib import Path

ASSIGNMENT = 'hw1'
# What nbgrader puts in place of a solution region; nbcourse writes the same
# into nbgrader_config.py, so the two renderings agree.
CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError()'
TEXT_STUB = 'YOUR ANSWER HERE'


class NotebookError(ValueError):
    """A course or notebook that cannot be built, with the reason in its message."""


# ---------------------------------------------------------------------------
# The student notebook


def _nbgrader_config():
    """The settings of nbgrader's preprocessors that make_course also writes."""
    from traitlets.config import Config

    config = Config()
    config.ClearSolutions.code_stub = {'python': CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    return config


def render_student_notebook(source_path):
    """The released (student) version of an nbgrader source notebook.

    Solution regions and solution cells become CODE_STUB / TEXT_STUB, hidden
    test regions are removed, outputs cleared, cells locked and checksummed:
    nbgrader's own preprocessors, in the order and with the settings that
    `nbgrader generate_assignment` uses in a course made by make_course
    (only SaveCells, which records the cells in the gradebook, is left out).
    The result is byte for byte the notebook generate_assignment releases.

    Args:
        source_path: path of the source notebook, e.g. solutions/hw1.ipynb.

    Returns:
        bytes: the released notebook (UTF-8 JSON), the same for the same input.

    Raises:
        NotebookError: the notebook is missing or its nbgrader markers or
            metadata are inconsistent (nbgrader's reason in the message).
    """
    from nbconvert.exporters import NotebookExporter
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import SaveCells

    source_path = Path(source_path)
    if not source_path.is_file():
        raise NotebookError(f"no notebook at {source_path}")
    config = _nbgrader_config()
    exporter = NotebookExporter(config=config)
    for preprocessor in GenerateAssignment.class_traits()['preprocessors'].default():
        if preprocessor is not SaveCells:
            exporter.register_preprocessor(preprocessor(config=config), enabled=True)
    resources = {'metadata': {'path': str(source_path.parent), 'name': source_path.stem},
                 'nbgrader': {'assignment': ASSIGNMENT, 'notebook': source_path.stem}}
    try:
        output, _ = exporter.from_filename(str(source_path), resources=resources)
    except Exception as err:  # nbgrader raises RuntimeError, ValidationError, ...
        raise NotebookError(f"{source_path}: cannot render the student notebook: "
                            f"{type(err).__name__}: {err}") from None
    return output.encode('utf-8')


def feedback_preprocessors():
    """The preprocessors of `nbgrader generate_feedback` for this course.

    nbgrader's defaults plus one that removes the hidden test regions from the
    feedback, and reduces the tracebacks of the cells that had them to the
    error's message (a traceback shows the failing hidden line). For
    `c.GenerateFeedback.preprocessors` in nbgrader_config.py.
    """
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import ClearHiddenTests, GetGrades
    from nbgrader import utils as nbgrader_utils

    class HideHiddenTests(ClearHiddenTests):
        """ClearHiddenTests for feedback: also strip tracebacks out of those cells."""

        def preprocess_cell(self, cell, resources, index):
            removed = self._remove_hidden_test_region(cell)
            if removed and nbgrader_utils.is_grade(cell):
                for output in cell.get('outputs', []):
                    if output.get('output_type') == 'error':
                        output['traceback'] = [f"{output.get('ename', 'Error')}: "
                                               f"{output.get('evalue', '')}"]
            return cell, resources

    defaults = list(GenerateFeedback.class_traits()['preprocessors'].default())
    at = defaults.index(GetGrades) + 1 if GetGrades in defaults else 0
    return defaults[:at] + [HideHiddenTests] + defaults[at:]
