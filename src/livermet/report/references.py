"""Numbered references for the printed report: source strings -> bibliography entries.

The assessment names its sources as short strings ("Adam R, et al. Ann Surg 2006;244:524-535;
Tirotta F, et al. Eur J Surg Oncol 2020 (systematic review ...)"). The printed report shows them
as numbered references instead: :class:`References` splits a source string into citations,
matches each to an entry of :data:`BIBLIOGRAPHY`, numbers the entries in order of first
appearance and gives the marker ("[3, 7]") to print beside a value or a reason; the list at the
end of the report is :meth:`References.entries`.

Bibliographic details (authors, journal, volume, pages) are those recorded in the project's
research notes and module docstrings; a DOI is given only where one was seen there (the case
report's, the Table 1 series' in ``livermet/evidence/data/literature.csv``, Chua 2011 and Zacherl
2011 from the research note, FIGO 2023 from the staging note). None is guessed.

Internal identifiers never reach the reader: the dataset's series keys (``foster1978``,
``unknown19``) are matched to their entries, and verification tags or spec section numbers that
an engine string may carry are removed by :func:`clean_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "BIBLIOGRAPHY",
    "NON_BIBLIOGRAPHIC",
    "Entry",
    "References",
    "clean_text",
    "match_source",
    "split_source",
]


@dataclass(frozen=True)
class Entry:
    """One bibliography entry: how it is printed, and the patterns that recognise it."""

    key: str
    """Internal key (never printed)."""
    text: str
    """The citation as printed: authors, title or topic, journal, year, volume:pages."""
    patterns: tuple[str, ...]
    """Regular expressions (case-insensitive) that find a citation of this entry in a source."""
    doi: str | None = None
    """DOI, only where one is recorded in the project's sources."""

    def formatted(self) -> str:
        """Return the entry as printed in the reference list."""
        return f"{self.text} doi:{self.doi}" if self.doi else self.text


def _e(key: str, text: str, *patterns: str, doi: str | None = None) -> Entry:
    return Entry(key, text, patterns, doi)


CASE_REPORT_DOI = "10.1186/s40792-022-01400-1"

BIBLIOGRAPHY: tuple[Entry, ...] = (
    # The index case report and the ten series of its Table 1 (literature.csv, PROVENANCE.md).
    _e(
        "tsuzaka2022",
        "Tsuzaka S, Asahi Y, Kamiyama T, et al. Laparoscopic liver resection for liver metastasis "
        "of leiomyosarcoma of the thigh: a case report. Surg Case Rep 2022;8.",
        r"\bTsuzaka\b",
        r"\bthe case report\b",
        r"\bcase report's\b",
        r"\bseed case report\b",
        r"\blivermet seed\b",
        doi=CASE_REPORT_DOI,
    ),
    _e(
        "foster1978",
        "Foster JH. Am J Surg 1978;135:389-394 (attribution of the case report's series probable).",
        r"\bfoster1978\b",
        r"\bFoster\b.*\b1978\b",
        doi="10.1016/0002-9610(78)90072-7",
    ),
    _e(
        "lang2000",
        "Lang H, Nußbaum KT, Kaudel P, et al. Ann Surg 2000;231.",
        r"\blang2000\b",
        r"\bLang\b.*\b2000\b",
    ),
    _e(
        "dematteo2001",
        "DeMatteo RP, et al. Ann Surg 2001;234:540-547.",
        r"\bdematteo2001\b",
        r"\bDeMatteo\b.*\b2001\b",
        doi="10.1097/00000658-200110000-00013",
    ),
    _e(
        "rehders2009",
        "Rehders A, Peiper M, Stoecklein NH, et al. World J Surg 2009;33:111.",
        r"\brehders2009\b",
        r"\bRehders\b.*\b2009\b",
        doi="10.1007/s00268-008-9777-4",
    ),
    _e(
        "groeschl2012",
        "Groeschl RT, et al. J Am Coll Surg 2012 (multi-institutional series; attribution "
        "probable).",
        r"\bgroeschl2012\b",
        r"\bGroeschl\b.*\b2012\b",
    ),
    _e(
        "marudanayagam2011",
        "Marudanayagam R, Sandhu B, Perera MTPR, et al. Eur J Surg Oncol 2011;37:87-92.",
        r"\bmarudanayagam2011\b",
        r"\bMarudanayagam\b.*\b2011\b",
    ),
    _e(
        "unknown19",
        "Published series cited as reference 19 of Tsuzaka et al., Surg Case Rep 2022 (Table 1: "
        "2000-2009, 27 patients); source uncertain: the publication was not identified.",
        r"\bunknown19\b",
        r"\buncertain source \((?:case report )?ref\. 19\)",  # series_label's wording
    ),
    _e(
        "grimme2019",
        "Grimme FAB, et al. Dutch nationwide series of liver resection for sarcoma metastases, "
        "2019 (PMC6878742; attribution probable).",
        r"\bgrimme2019\b",
        r"\bGrimme\b.*\b2019\b",
    ),
    _e(
        "brudvik2015",
        "Brudvik KW, et al. J Gastrointest Surg 2015.",
        r"\bbrudvik2015\b",
        r"\bBrudvik\b.*\b2015\b",
        doi="10.1007/s11605-015-2845-9",
    ),
    _e(
        "unknown20",
        "Published series cited as reference 20 of Tsuzaka et al., Surg Case Rep 2022 (Table 1: "
        "1998-2015, 62 patients); source uncertain: the publication was not identified.",
        r"\bunknown20\b",
        r"\buncertain source \((?:case report )?ref\. 20\)",  # series_label's wording
    ),
    # Further series and reviews of liver metastases.
    _e(
        "adam2006",
        "Adam R, Chiche L, Aloia T, et al. Ann Surg 2006;244:524-535.",
        r"\bAdam\b.*\b2006\b",
    ),
    _e(
        "tirotta2020",
        "Tirotta F, Hodson J, Parente A, et al. Eur J Surg Oncol 2020 (systematic review of "
        "liver metastases of non-GIST sarcoma).",
        r"\bTirotta\b",
    ),
    _e("jaques1995", "Jaques DP, Coit DG, Casper ES, Brennan MF. Ann Surg 1995.", r"\bJaques\b"),
    _e(
        "jain2023",
        "Jain AJ, Boyev A, Azimuddin AM, et al. Liver metastases of leiomyosarcoma (MD Anderson). "
        "SSAT 2023, meeting abstract.",
        r"\bJain\b",
    ),
    _e(
        "pawlik2006",
        "Pawlik TM, Vauthey JN, Abdalla EK, et al. Arch Surg 2006.",
        r"\bPawlik\b.*\b2006\b",
    ),
    _e(
        "chua2011",
        "Chua et al. Am J Clin Oncol 2011;34:317-320.",
        r"\bChua\b",
        doi="10.1097/COC.0b013e3181e1d078",
    ),
    _e(
        "zacherl2011",
        "Zacherl M, Bernhardt GA, Zacherl J, et al. Langenbecks Arch Surg 2011;396:1083-1091.",
        r"\bZacherl\b",
        doi="10.1007/s00423-011-0821-8",
    ),
    _e(
        "chen1998",
        "Chen H, et al. J Gastrointest Surg 1998 (hepatic resection for metastatic "
        "leiomyosarcoma).",
        r"\bchen1998\b",
        r"\bChen\b.*\b1998\b",
    ),
    _e(
        "kim2017",
        "Kim et al. Korean J Clin Oncol 2017;13:143 (liver metastases of leiomyosarcoma).",
        r"\bkim2017\b",
        r"\bKim\b.*\b2017\b",
        doi="10.14216/kjco.17022",
    ),
    _e("sim2018", "Sim et al. World J Surg 2018.", r"\bSim\b.*\b2018\b"),
    # Fitness.
    _e(
        "oken1982",
        "Oken MM, et al. Am J Clin Oncol 1982;5:649-655 (ECOG performance status).",
        r"\bOken\b",
    ),
    _e(
        "asa",
        "American Society of Anesthesiologists. ASA physical status classification system.",
        r"American Society of Anesthesiologists",
    ),
    _e(
        "ghanie2022",
        "Ghanie A, et al. Surgery 2022;172:1164-1173 (meta-analysis of hepatectomy in older "
        "patients).",
        r"\bGhanie\b",
    ),
    _e(
        "puijk2018",
        "Puijk RS, et al. BMC Cancer 2018;18:821 (COLLISION trial protocol).",
        r"\bPuijk\b",
        r"\bCOLLISION\b",
    ),
    # Grading and staging.
    _e(
        "trojani1984",
        "Trojani M, Contesso G, Coindre JM, et al. Int J Cancer 1984;33:37-42.",
        r"\bTrojani\b",
    ),
    _e(
        "coindre2006",
        "Coindre JM. Arch Pathol Lab Med 2006;130:1448-1453.",
        r"\bCoindre\b.*\b2006\b",
    ),
    _e(
        "guillou1997",
        "Guillou L, Coindre JM, Bonichon F, et al. J Clin Oncol 1997;15:350-362.",
        r"\bGuillou\b",
    ),
    _e(
        "ajcc8",
        "Amin MB, et al. (eds). AJCC Cancer Staging Manual, 8th ed. Springer, 2017.",
        r"\bAJCC Cancer Staging Manual\b",
        r"\bAmin MB\b",
    ),
    _e(
        "nci-pdq-sts",
        "National Cancer Institute. PDQ Soft Tissue Sarcoma Treatment (Health Professional "
        "Version), 2025.",
        r"\bNCI PDQ\b",
    ),
    _e(
        "prat2009",
        "Prat J. FIGO staging for uterine sarcomas. Int J Gynaecol Obstet 2009;104:177-178.",
        r"\bPrat J\b",
        r"\bFIGO 2009\b",
    ),
    _e(
        "mbatani2018",
        "Mbatani N, Olawaiye AB, Prat J. FIGO Cancer Report 2018, uterine sarcomas. Int J "
        "Gynaecol Obstet 2018;143 Suppl 2:51-58.",
        r"\bMbatani\b",
        r"\bFIGO Cancer Report 2018\b",
    ),
    _e(
        "berek2023",
        "Berek JS, et al. FIGO staging of endometrial cancer: 2023. Int J Gynaecol Obstet 2023.",
        r"\bBerek\b",
        r"\bFIGO 2023\b",
        doi="10.1002/ijgo.14923",
    ),
    _e(
        "nci-staging",
        "National Cancer Institute. Cancer staging (cancer.gov).",
        r"\bNCI, Cancer staging\b",
    ),
    _e(
        "pathologyoutlines",
        "PathologyOutlines.com. Staging of soft tissue tumours.",
        r"\bPathologyOutlines\b",
    ),
    # Liver function.
    _e(
        "makuuchi1993",
        "Makuuchi M, Kosuge T, Takayama T, et al. Surgery for small liver "
        "cancers. Semin Surg Oncol 1993;9:298-304.",
        r"\bMakuuchi\b",
    ),
    _e(
        "imamura2003",
        "Imamura H, Seyama Y, Kokudo N, et al. Arch Surg 2003;138:1198-1206.",
        r"\bImamura\b",
    ),
    _e(
        "kudo1992",
        "Kudo M, Todo A, Ikekubo K, Hino M. Am J Gastroenterol 1992 (99mTc-GSA scintigraphy).",
        r"\bKudo\b.*\b1992\b",
    ),
    _e(
        "torizuka1992",
        "Torizuka K, et al. Kaku Igaku 1992 (99mTc-GSA multicentre study).",
        r"\bTorizuka\b",
    ),
    _e(
        "child1964",
        "Child CG, Turcotte JG. Surgery and portal hypertension. In: The liver and "
        "portal hypertension. Saunders, 1964.",
        r"\bTurcotte\b",
    ),
    _e(
        "pugh1973",
        "Pugh RN, Murray-Lyon IM, Dawson JL, et al. Br J Surg 1973;60:646-649.",
        r"\bPugh\b",
    ),
    _e(
        "johnson2015",
        "Johnson PJ, Berhane S, Kagebayashi C, et al. J Clin Oncol 2015;33:550-558 (ALBI grade).",
        r"\bJohnson\b.*\b2015\b",
    ),
    _e(
        "hiraoka2017",
        "Hiraoka A, et al. Liver Cancer 2017;6:204-215 (modified ALBI grade).",
        r"\bHiraoka\b",
    ),
    _e("kamath2001", "Kamath PS, et al. Hepatology 2001;33:464-470 (MELD).", r"\bKamath\b"),
    _e("wiesner2003", "Wiesner R, et al. Gastroenterology 2003;124:91-96.", r"\bWiesner\b"),
    _e(
        "kim2008",
        "Kim WR, et al. N Engl J Med 2008;359:1018-1026 (MELD-Na).",
        r"\bKim WR\b.*\b2008\b",
    ),
    _e(
        "kim2021",
        "Kim WR, Mannalithara A, Heimbach JK, et al. Gastroenterology "
        "2021;161:1887-1895 (MELD 3.0).",
        r"\bKim WR\b.*\b2021\b",
    ),
    _e("kishi2009", "Kishi Y, et al. Ann Surg 2009 (minimum future liver remnant).", r"\bKishi\b"),
    _e("shindoh2013", "Shindoh J, et al. J Am Coll Surg 2013;216:201.", r"\bShindoh\b"),
    _e(
        "abdalla2006",
        "Abdalla EK, et al. Ann Surg Oncol 2006 (consensus on the future liver remnant).",
        r"\bAbdalla\b",
    ),
    _e(
        "yokoyama2010",
        "Yokoyama Y, Nishio H, Ebata T, et al. Br J Surg 2010;97:1260-1268 (ICG-Kf).",
        r"\bYokoyama\b",
    ),
    # Resection, ablation, outcomes.
    _e(
        "strasberg2000",
        "Strasberg SM, et al. (IHPBA Terminology Committee). The Brisbane 2000 "
        "terminology of liver anatomy and resections. HPB 2000;2:333-339.",
        r"\bStrasberg\b",
        r"\bBrisbane 2000\b",
    ),
    _e(
        "kawaguchi2018",
        "Kawaguchi Y, Fuks D, Kokudo N, Gayet B. Difficulty of laparoscopic "
        "liver resection: proposal for a new classification. Ann Surg 2018;267:13-17.",
        r"\bKawaguchi\b(?:(?!Lillemoe).)*\b2018\b",
    ),
    _e(
        "kawaguchi2019",
        "Kawaguchi Y, Lillemoe HA, Vauthey JN. J Surg Oncol 2019;119:594 (two-stage hepatectomy).",
        r"\bLillemoe\b",
    ),
    _e(
        "vauthey2000",
        "Vauthey JN, et al. Surgery 2000;127:512.",
        r"\bVauthey JN, et al\. "
        r"Surgery 2000\b",
        r"\bVauthey 2000\b",
    ),
    _e(
        "vanlienden2013",
        "van Lienden KP, et al. Cardiovasc Intervent Radiol 2013;36:25 (portal vein embolisation).",
        r"\bvan Lienden\b",
    ),
    _e("heil2021", "Heil J, Schadde E. Langenbecks Arch Surg 2021;406:1295.", r"\bHeil\b"),
    _e(
        "buell2009",
        "Buell JF, et al. Ann Surg 2009;250:825-830 (Louisville statement).",
        r"\bBuell\b",
        r"\bLouisville\b",
    ),
    _e(
        "vanderlei2025",
        "van der Lei S, et al. Lancet Oncol 2025;26:187-199 (COLLISION trial).",
        r"\bvan der Lei\b",
    ),
    _e(
        "wang2013",
        "Wang X, et al. Cardiovasc Intervent Radiol 2013;36:166 (ablation margin).",
        r"\bWang\b.*\b(2013|CVIR)\b",
    ),
    _e("lin2017", "Lin MX, et al. Dig Dis Sci 2017;62:1086.", r"\bLin\b.*\bDig Dis Sci\b"),
    _e("lu2002", "Lu DS, et al. AJR 2002;178:47 (heat sink).", r"\bLu\b.*\bAJR\b"),
    _e(
        "gorgec2023",
        "Görgec B, Benedetti Cacciaguerra A, Pawlik TM, et al. An international "
        "expert Delphi consensus on defining textbook outcome in liver surgery (TOLS). Ann Surg "
        "2023;277:821-828.",
        r"\bG[öo]rgec\b.*\b2023\b",
    ),
    _e(
        "dindo2004",
        "Dindo D, Demartines N, Clavien PA. Ann Surg 2004;240:205-213.",
        r"\bDindo\b.*\b2004\b",
    ),
    _e("clavien2009", "Clavien PA, et al. Ann Surg 2009;250:187-196.", r"\bClavien PA\b.*\b2009\b"),
    _e(
        "slankamenac2013",
        "Slankamenac K, Graf R, Barkun J, et al. The comprehensive "
        "complication index. Ann Surg 2013;258:1-7.",
        r"\bSlankamenac\b",
    ),
    _e(
        "koch2011",
        "Koch M, et al. Surgery 2011;149:680-688 (ISGLS bile leakage).",
        r"\bKoch\b.*\b2011\b",
    ),
    _e(
        "rahbari2011",
        "Rahbari NN, et al. Surgery 2011;149:713-724 (ISGLS post-hepatectomy liver failure).",
        r"\bRahbari\b",
    ),
    # Timing, response, surveillance.
    _e(
        "siriwardena2023",
        "Siriwardena AK, et al. Br J Surg 2023;110:1161-1170 "
        "(E-AHPBA/ESSO/ESCP/ESGAR/CIRSE consensus).",
        r"\bSiriwardena\b",
    ),
    _e("engstrand2019", "Engstrand J, et al. World J Surg Oncol 2019;17:228.", r"\bEngstrand\b"),
    _e(
        "eisenhauer2009",
        "Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1).",
        r"\bEisenhauer\b",
    ),
    _e(
        "gronchi2021",
        "Gronchi A, Miah AB, Dei Tos AP, et al. Soft tissue and visceral "
        "sarcomas: ESMO-EURACAN-GENTURIS Clinical Practice Guidelines. Ann Oncol "
        "2021;32:1348-1365.",
        r"\bGronchi\b",
        r"\bESMO-EURACAN-GENTURIS\b",
    ),
    _e(
        "casali2010",
        "Casali PG, Blay JY. Soft tissue sarcomas: ESMO Clinical Practice Guidelines, 2010.",
        r"\bCasali\b",
    ),
    _e(
        "nccn-sts",
        "National Comprehensive Cancer Network. NCCN Guidelines for Patients: Soft "
        "Tissue Sarcoma, version 1.2014.",
        r"\bNCCN\b",
    ),
)
"""Every entry the report can cite; the order here is not the report's order."""

NON_BIBLIOGRAPHIC = frozenset(
    {
        "dates",
        "stated",
        "derived from the dates",
        "stated in the case file",
        "K = ln(100/R15)/15 (mono-exponential clearance)",
    }
)
"""Source-like strings of the assessment that name no publication (where a value comes from in
the case file, a formula): never made into references."""

_COMPILED = tuple(
    (entry, tuple(re.compile(p, re.IGNORECASE) for p in entry.patterns)) for entry in BIBLIOGRAPHY
)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_SEGMENT_SPLIT = re.compile(r";\s+")

_INTERNAL = (
    re.compile(r"\s*\[[^\]]*\b(?:V\d|UNV|ENG)\b[^\]]*\]"),  # verification tags
    re.compile(r"\s*\((?:spec |see )?(?:[\w-]+\.md\s*)?§\s*\d+[\w.]*\)"),  # "(spec §12)"
    re.compile(r"\s*\b[\w-]+\.md\b(?:\s*§\s*\d+[\w.]*)?"),  # "clinical-scores.md §15"
    re.compile(r"\s*§\s*\d+[\w.]*"),
    re.compile(r"\s*\b(?:shared|src|work|tmp|home)/[\w./-]+"),  # file paths
)


def clean_text(text: str) -> str:
    """Return ``text`` (written by livermet, not by the user) without internal notes.

    Verification tags ("[V1]", "[UNV]"), spec section numbers ("(spec §12)",
    "clinical-scores.md §15") and file paths are removed.
    """
    for pattern in _INTERNAL:
        text = pattern.sub("", text)
    return re.sub(r"\s{2,}", " ", text).replace(" ,", ",").replace("()", "").strip()


def split_source(source: str) -> list[str]:
    """Return the citations of a source string: its parts between "; " ("2006;244:524" stays)."""
    return [s.strip() for s in _SEGMENT_SPLIT.split(source) if s.strip()]


def match_source(source: str) -> tuple[list[Entry], list[str]]:
    """Return the entries a source string cites, and its parts that match no entry.

    The entries come in the order they are named, without repeats; a part that matches no entry
    is a citation-like part (with a year and no known author). A non-bibliographic string
    (:data:`NON_BIBLIOGRAPHIC`) cites nothing.
    """
    if source.strip() in NON_BIBLIOGRAPHIC:
        return [], []
    found: list[Entry] = []
    unmatched: list[str] = []
    for segment in split_source(source):
        hits: list[tuple[int, Entry]] = []
        for entry, patterns in _COMPILED:
            starts = [m.start() for p in patterns if (m := p.search(segment))]
            if starts:
                hits.append((min(starts), entry))
        for _, entry in sorted(hits, key=lambda h: h[0]):
            if entry not in found:
                found.append(entry)
        if not hits and _YEAR.search(segment):
            unmatched.append(segment)
    return found, unmatched


def _fallback(segment: str) -> Entry:
    """Return an entry for a citation that is not in :data:`BIBLIOGRAPHY`, printed as written."""
    text = clean_text(segment).strip(" ()")
    text = re.sub(r"^(?:citing|and|see)\s+", "", text)
    return Entry(key="cited:" + text.lower(), text=text.rstrip(".") + ".", patterns=())


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3, 5" (en dash between the ends of a run of three or more)."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(set(numbers)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(_run(run))
        run = [n]
    if run:
        out.append(_run(run))
    return ", ".join(out)


def _run(run: list[int]) -> str:
    if len(run) >= 3:
        return f"{run[0]}\u2013{run[-1]}"
    return ", ".join(str(n) for n in run)


@dataclass
class References:
    """The report's reference list, numbered in order of first citation."""

    _numbers: dict[str, int] = field(default_factory=dict)
    _entries: list[Entry] = field(default_factory=list)

    def numbers(self, source: str | None) -> list[int]:
        """Return the reference numbers of ``source`` (new entries get the next numbers)."""
        if not source:
            return []
        entries, unmatched = match_source(source)
        entries += [_fallback(s) for s in unmatched]
        out = []
        for entry in entries:
            if entry.key not in self._numbers:
                self._entries.append(entry)
                self._numbers[entry.key] = len(self._entries)
            out.append(self._numbers[entry.key])
        return out

    def marker(self, *sources: str | None) -> str:
        """Return the marker beside a value: "[3, 7]", "[12–21]", or "" for no reference."""
        numbers = [n for s in sources for n in self.numbers(s)]
        return f"[{_ranges(numbers)}]" if numbers else ""

    def entries(self) -> list[tuple[int, str]]:
        """Return (number, formatted entry) of every cited entry, in order."""
        return [(i, e.formatted()) for i, e in enumerate(self._entries, start=1)]
