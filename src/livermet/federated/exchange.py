"""Request and aggregate files of the offline exchange: versioned, checksummed, validated.

A consortium without a federated engine exchanges files (docs/federated.md#file-exchange):

- the coordinator writes a **request file** (`RequestFile`): what to analyse (`Analysis`, the
  options of ``livermet cohort``), the disclosure rules (`Disclosure`) and the request every
  site answers (a `livermet.federated` request);
- each site runs it against its own registry and writes an **aggregate file**
  (`AggregateFile`): the request it answers (embedded whole), how many of its cases were used
  and why the others were left out, the site's aggregate, and the release report that lists
  every number with what it is;
- the coordinator combines the aggregate files (`livermet.federated.offline`).

Each file carries the SHA-256 of its own canonical JSON (``sha256``: the model's JSON without
that field) and an aggregate's core answer names its request by `request_id`. A file that is not
JSON, not of this format or version, whose checksum does not match its content (an edited
number), or that answers another request, is refused naming the file and the problem. The
checksum detects an edit; it is not a signature: the site's audit chain records the hash of
every file it released (``livermet.registry``, ``federated.release``), against which a file can
be checked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from livermet.errors import InputError
from livermet.federated._messages import FORMAT_VERSION, request_id
from livermet.federated.cox import CoxAggregate, CoxRequest
from livermet.federated.cuminc import CumincAggregate, CumincRequest
from livermet.federated.disclosure import MIN_CELL_DEFAULT
from livermet.federated.meta import MetaAggregate, MetaRequest
from livermet.federated.survival import (
    LogRankStrataAggregate,
    LogRankStrataRequest,
    SurvivalAggregate,
    SurvivalRequest,
)

__all__ = [
    "AGGREGATE_FORMAT",
    "REQUEST_FORMAT",
    "AggregateFile",
    "Analysis",
    "AnyAggregate",
    "AnyRequest",
    "CohortNotes",
    "Disclosure",
    "RequestFile",
    "file_sha256",
    "read_aggregate",
    "read_request",
    "sealed",
    "write_file",
]

REQUEST_FORMAT: Literal["livermet-federated-request"] = "livermet-federated-request"
"""The ``format`` of a request file."""

AGGREGATE_FORMAT: Literal["livermet-federated-aggregate"] = "livermet-federated-aggregate"
"""The ``format`` of an aggregate file."""

Kind = Literal["km", "logrank", "rmst", "cuminc", "cox", "meta"]

AnyRequest = Annotated[
    SurvivalRequest | LogRankStrataRequest | CumincRequest | CoxRequest | MetaRequest,
    Field(discriminator="analysis"),
]
AnyAggregate = Annotated[
    SurvivalAggregate | LogRankStrataAggregate | CumincAggregate | CoxAggregate | MetaAggregate,
    Field(discriminator="analysis"),
]


class _Frozen(BaseModel):
    """A part of an exchange file: frozen, no unknown field."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Analysis(_Frozen):
    """What the coordinator analyses: the options of ``livermet cohort`` for this analysis."""

    kind: Kind = Field(description="km, logrank, rmst, cuminc, cox or meta.")
    time: str = Field(description="Column of follow-up times (months).")
    event: str = Field(description="Column of events (0/1), or of first-event labels (cuminc).")
    by: str | None = Field(default=None, description="Grouping column (km, logrank, rmst).")
    levels: list[str] | None = Field(default=None, description="Order of the groups.")
    times: list[float] = Field(default=[12.0, 36.0, 60.0], description="Report times (months).")
    rmst_horizon: float = Field(default=60.0, ge=0, description="RMST horizon tau (months).")
    conf_type: Literal["log-log", "log", "plain"] = Field(
        default="log-log", description="Transform of the pointwise intervals."
    )
    conf_level: float = Field(default=0.95, gt=0, lt=1, description="Confidence level.")
    covariates: list[str] = Field(default=[], description="Cox covariates.")
    categorical: list[str] = Field(default=[], description="Numeric columns taken as factors.")
    reference: dict[str, str] = Field(
        default={}, description="Reference level of a Cox factor covariate (covariate -> level)."
    )
    ties: Literal["efron", "breslow"] = Field(default="efron", description="Cox ties.")
    stratified: bool = Field(default=False, description="Stratified by site (logrank, cox).")
    concordance: Literal["within-sites", "exact"] = Field(
        default="within-sites",
        description=(
            "Cox, common baseline: Harrell's C counted within sites, or over all pairs (one "
            "round more; each event's time and linear predictor leave its site)."
        ),
    )
    competing: str | None = Field(default=None, description="0/1 competing-event column.")
    censored: list[str] = Field(
        default=["censored", "none", "0"], description="Labels meaning censored (cuminc)."
    )
    event_types: list[str] | None = Field(default=None, description="Order of event types.")

    def columns(self) -> list[str]:
        """Return the columns a site needs, outcome first (the order cases are counted out)."""
        if self.kind in {"cox", "meta"}:
            extra: list[str | None] = list(self.covariates)
        else:
            extra = [self.competing] if self.kind == "cuminc" else [self.by]
        return [self.time, self.event, *(c for c in extra if c)]

    def sends_times(self) -> bool:
        """Whether the sites send a table per distinct time (what coarsening protects)."""
        return self.kind in {"km", "rmst", "cuminc"} or (
            self.kind in {"logrank", "cox"} and not self.stratified
        )

    @model_serializer(mode="wrap")
    def _omit_no_reference(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # Without a reference level (or the exact concordance) the JSON stays as files written
        # before the field existed, so their checksums (and request ids) still match.
        data: dict[str, object] = handler(self)
        if not data.get("reference"):
            data.pop("reference", None)
        if data.get("concordance") == "within-sites":
            data.pop("concordance", None)
        return data


class Disclosure(_Frozen):
    """The disclosure rules the request promises (docs/federated.md#disclosure-control)."""

    coarsen: Literal["month", "exact"] = Field(
        default="month",
        description="Times sent as whole months (⌈t⌉) or exact (tables per time only).",
    )
    min_cell: int = Field(
        default=MIN_CELL_DEFAULT,
        ge=0,
        description="Smallest total over all sites of a released cell (patients, events).",
    )


class RequestFile(_Frozen):
    """A request file: the analysis, the disclosure rules and the request of this round."""

    format: Literal["livermet-federated-request"] = Field(default=REQUEST_FORMAT)
    version: Literal[1] = Field(default=FORMAT_VERSION, description="Format version (1).")
    study: str = Field(default="", description="Title of the study, for the people involved.")
    analysis: Analysis
    disclosure: Disclosure = Field(default=Disclosure())
    round: int = Field(default=0, ge=0, description="Round of an iterative analysis (Cox).")
    request: AnyRequest = Field(description="The request every site answers.")
    sha256: str = Field(default="", description="SHA-256 of this file's JSON without sha256.")


class CohortNotes(_Frozen):
    """How many of a site's cases were used, and why the others were left out."""

    n_total: int = Field(ge=0, description="Cases of the site's cohort table.")
    excluded: dict[str, int] = Field(
        default={}, description="Cases left out, per first missing column."
    )
    n_synthetic: int = Field(default=0, ge=0, description="Synthetic cases among those used.")


class AggregateFile(_Frozen):
    """An aggregate file: a site's answer to one request file, and its release report."""

    format: Literal["livermet-federated-aggregate"] = Field(default=AGGREGATE_FORMAT)
    version: Literal[1] = Field(default=FORMAT_VERSION, description="Format version (1).")
    site: str = Field(min_length=1, description="Name of the answering site.")
    request: RequestFile = Field(description="The request file answered, whole.")
    cohort: CohortNotes
    aggregate: AnyAggregate = Field(description="The site's answer: all that leaves the site.")
    release: list[str] = Field(description="Every number of the answer, with what it is.")
    sha256: str = Field(default="", description="SHA-256 of this file's JSON without sha256.")


M = TypeVar("M", RequestFile, AggregateFile)


def file_sha256(model: RequestFile | AggregateFile) -> str:
    """Return the SHA-256 (hex) of a file's canonical JSON, its ``sha256`` field left out."""
    text = model.model_dump_json(exclude={"sha256"})
    return hashlib.sha256(text.encode()).hexdigest()


def sealed(model: M) -> M:
    """Return ``model`` with its ``sha256`` set."""
    return model.model_copy(update={"sha256": file_sha256(model)})


def write_file(model: RequestFile | AggregateFile, path: Path) -> None:
    """Write a sealed file as indented JSON (UTF-8)."""
    path.write_text(model.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _load(path: Path, expected_format: str) -> dict[str, object]:
    """Return the JSON object of ``path``, refusing what is not a file of this format/version."""
    if not path.is_file():
        raise InputError("file not found", str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a JSON file ({exc})", str(path)) from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"not a {expected_format} file (format: {found!r})", str(path))
    if data.get("version") != FORMAT_VERSION:
        raise InputError(
            f"format version {data.get('version')!r}; this livermet reads version {FORMAT_VERSION}",
            str(path),
        )
    return data


def _validated(model: type[M], data: dict[str, object], path: Path) -> M:
    """Return the validated file, refusing a malformed one with its first problem."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(file)"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise InputError(f"malformed: {where}: {first['msg']}{more}", str(path)) from None
    except ValueError as exc:  # raised by a model validator (a table of the wrong shape)
        raise InputError(f"malformed: {exc}", str(path)) from None
    return parsed


def _check_seal(model: RequestFile | AggregateFile, path: Path, what: str) -> None:
    """Refuse a file whose checksum does not match its content."""
    if model.sha256 != file_sha256(model):
        raise InputError(
            f"the checksum of the {what} does not match its content: the file was edited "
            "after it was written (a changed number?); ask for a new one",
            str(path),
        )


def read_request(path: Path) -> RequestFile:
    """Read and check a request file (format, version, fields and checksum)."""
    request = _validated(RequestFile, _load(path, REQUEST_FORMAT), path)
    _check_seal(request, path, "request")
    return request


def read_aggregate(path: Path) -> AggregateFile:
    """Read and check an aggregate file and the request embedded in it.

    Refuses a file whose checksum, or whose embedded request's checksum, does not match, and an
    answer that does not name the embedded request (``request_id``).
    """
    answer = _validated(AggregateFile, _load(path, AGGREGATE_FORMAT), path)
    _check_seal(answer, path, "aggregate file")
    _check_seal(answer.request, path, "request embedded in the aggregate file")
    if answer.aggregate.request_id != request_id(answer.request.request):
        raise InputError(
            "the aggregate does not answer the request embedded in the file (request_id mismatch)",
            str(path),
        )
    return answer
