"""The report exporter is made once per thread (its templates compile once):
a reused exporter renders every notebook exactly as a new one does."""

from __future__ import annotations

import nbformat

from csmlib.report import htmlexport
from csmlib.report.htmlexport import notebook_to_html


def _notebook(i: int) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f"x = {i}")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": f"**bold {i}** <script>x</script>",
                                                     "text/plain": "bold"}),
        nbformat.v4.new_output("stream", name="stderr", text="a warning\n"),
        nbformat.v4.new_output("display_data", data={"text/html": f"<table><tr><td>{i}</td></tr></table>"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Report {i}"), cell]
    return nb


def test_a_reused_exporter_renders_as_a_new_one():
    notebooks = {i: nbformat.writes(_notebook(i)) for i in range(3)}   # fixed cell ids
    fresh = {}
    for i in range(3):
        htmlexport._EXPORTERS.__dict__.clear()   # a new exporter for each
        fresh[i] = notebook_to_html(notebooks[i], title=f"T{i}")
    htmlexport._EXPORTERS.__dict__.clear()
    exporter = htmlexport._exporter()
    for i in (2, 0, 1, 2):   # one exporter, another order, twice the same
        assert notebook_to_html(notebooks[i], title=f"T{i}") == fresh[i]
    assert htmlexport._exporter() is exporter
    assert "<script>" not in fresh[0] and "a warning" not in fresh[0] and "bold 0" in fresh[0]
