"""The printed report (issue 11): a two-page A4 summary, then the appendix, from the typed model.

Each example is rendered to PDF and read back with pdftotext, page by page: the summary (ending
with the findings) is within pages 1-2 and the appendix starts on the next page; every page has
the header, "Page N of M" and the notice once; the lesion table shows segments and sizes; no
internal tag, spec section, file path or series key is printed; references are numbered.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from livermet import __version__
from livermet.case.assess import assess
from livermet.case.assessment_model import AssessmentModel
from livermet.case.load import load_case
from livermet.report.html import render_html
from livermet.report.pdf import render_pdf
from tests.report.internal_text import EXAMPLES, INTERNAL, ROOT

NOTICE = "Decision support, not medical advice."


def _poppler() -> None:
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext/pdfinfo (poppler-utils) are needed to read the report")
        pytest.skip("poppler-utils not installed")


@dataclass
class Rendered:
    """A rendered PDF report: the model it shows and the text of each page."""

    model: AssessmentModel
    pages: list[str]
    """``pdftotext -layout`` of each page."""
    flat_pages: list[str]
    """Each page's text in reading order (no layout), whitespace collapsed."""

    def page_of(self, pattern: str) -> int:
        """Return the first page (1-based) whose text matches ``pattern`` (multiline)."""
        for number, text in enumerate(self.pages, start=1):
            if re.search(pattern, text, re.MULTILINE):
                return number
        raise AssertionError(f"{pattern!r} is on no page")

    @property
    def text(self) -> str:
        """The text of every page, in order."""
        return "\n".join(self.pages)


def render(name: str, tmp: Path) -> Rendered:
    """Return the PDF report of example ``name``, rendered in ``tmp`` and read back as text."""
    model = assess(load_case(ROOT / "examples" / f"{name}.yaml")).model()
    path = tmp / f"{name}.pdf"
    path.write_bytes(render_pdf(model))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    count = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]

    def text(n: int, *layout: str) -> str:
        command = ["pdftotext", *layout, "-f", str(n), "-l", str(n), str(path), "-"]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    pages = [text(n, "-layout") for n in range(1, count + 1)]
    flat = [" ".join(text(n).split()) for n in range(1, count + 1)]
    return Rendered(model, pages, flat)


@pytest.fixture(scope="module", params=EXAMPLES)
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Return the rendered report of each example (skipped without poppler)."""
    _poppler()
    return render(request.param, tmp_path_factory.mktemp("report"))


def test_the_summary_fits_two_pages_and_the_appendix_follows(report: Rendered) -> None:
    findings = report.page_of(r"^\s*Findings\s*$")
    appendix = report.page_of(r"^\s*Appendix — details")
    assert findings <= 2
    assert appendix == findings + 1 <= 3
    # Every summary section comes before the findings; the details only after them.
    for heading in (
        "Tumour-board summary",
        "Liver lesions",
        "Treatment options",
        "Prognostic factors",
        "Evidence: survival after hepatectomy",
    ):
        assert report.page_of(re.escape(heading)) <= findings, heading
    assert report.page_of(r"Sources\s*$") >= appendix
    assert len(report.pages) >= 3


def test_every_page_has_the_header_its_number_and_the_notice_once(report: Rendered) -> None:
    total = len(report.pages)
    m = report.model
    for number, text in enumerate(report.pages, start=1):
        assert re.search(rf"Page {number} of {total}\b", text), number
        assert text.count(NOTICE) == 1, (number, text.count(NOTICE))
        assert f"Case {m.case.id}" in text, number
        assert f"livermet {__version__}" in text, number


def test_page_one_names_the_case_phase_date_and_version(report: Rendered) -> None:
    m = report.model
    first = report.pages[0]
    assert m.assessed_on is not None
    for expected in (
        m.case.id,
        m.phase,
        f"assessed on {m.assessed_on.isoformat()}",
        f"livermet {m.livermet_version}",
        f"{m.case.age_years}-year-old {m.case.sex}",
        f"{m.case.histology} of the {m.case.primary_site}",
    ):
        assert expected in first, expected
    for card in (
        "GRADE",
        "STAGE",
        "LIVER RESERVE · MAKUUCHI LIMIT",
        "PLAN AGAINST THE LESIONS",
        "FAVOURED OPTION",
    ):
        assert card in first, card


def test_the_lesion_table_shows_segments_and_size(report: Rendered) -> None:
    summary = "\n".join(report.pages[:2])
    for i, lesion in enumerate(report.model.liver_lesions):
        label = lesion.id or str(i + 1)
        segments = ", ".join(str(s) for s in lesion.segments)
        size = f"{lesion.size_mm:g} mm"
        row = rf"^\s*{re.escape(label)}\s+{re.escape(segments)}\s+{re.escape(size)}\s"
        assert re.search(row, summary, re.MULTILINE), (label, segments, size)


def test_no_internal_tag_path_or_series_key_is_printed(report: Rendered) -> None:
    for pattern in INTERNAL:
        found = re.search(pattern, report.text)
        assert found is None, (pattern, report.text[max(0, found.start() - 80) : found.end() + 80])


def test_sources_are_numbered_references(report: Rendered) -> None:
    appendix = "\n".join(report.pages[2:])
    listed = [int(n) for n in re.findall(r"^\s*(\d+)\.\s+\S", appendix.split("Sources")[-1], re.M)]
    assert listed == list(range(1, len(listed) + 1)) and len(listed) >= 25
    assert "Tsuzaka S, Asahi Y, Kamiyama T, et al." in appendix
    assert "doi:10.1186/s40792-022-01400-1" in appendix
    summary = "\n".join(report.pages[:2])
    markers = re.findall(r"\[(\d+)(?:[–,\d ]*)\]", summary)
    assert markers and max(int(n) for n in markers) <= len(listed)
    # The reasons carry markers, not source strings.
    assert "et al." not in summary


def test_the_evidence_shows_prediction_intervals_and_the_patient_follow_up(
    report: Rendered,
) -> None:
    summary = " ".join(report.flat_pages[:2])
    assert "The 95 % prediction interval is where the survival of a new series" in summary
    five = next(p for p in report.model.evidence.pooled_survival if p.months == 60)
    assert f"{100 * five.pi_lb:.1f}–{100 * five.pi_ub:.1f} %" in summary  # type: ignore[operator]
    months = report.model.timeline.follow_up_after_liver_resection_months
    if months is None:
        assert "No follow-up after a liver resection yet" in summary
    else:
        assert f"this patient: {months:g} months after the liver resection" in summary


def test_the_plan_card_says_whether_every_lesion_is_cleared_within_the_limit() -> None:
    _poppler()
    expected = {
        "seed-case": "clears every lesion, within the safe extent",
        "preop-uterine-lms": "clears every lesion, but beyond the safe extent",
        "preop-plan-misses-lesions": "leaves lesions L1, L2 outside the plan",
        "preop-retroperitoneal-lms": "clears every lesion; safe extent not known",
    }
    for name, words in expected.items():
        model = assess(load_case(ROOT / "examples" / f"{name}.yaml")).model()
        html = render_html(model)
        assert words in html, name


def test_the_printable_page_is_the_same_from_the_dict_and_from_the_model() -> None:
    assessment = assess(load_case(ROOT / "examples" / "seed-case.yaml"))
    from_dict = render_html(assessment.to_dict())
    assert from_dict == render_html(assessment.model())
    assert from_dict.startswith("<!doctype html>")
    assert 'src="data:image/png;base64,' in from_dict  # the curve, inline: nothing is fetched
    assert not re.search(r"""\b(src|href)=["'](?!data:)""", from_dict)  # no other resource
    assert "<script" not in from_dict
