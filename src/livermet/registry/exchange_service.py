"""Cases in and out of the registry for one user: :class:`ExchangeService`.

Imports are all-or-nothing, in one transaction (``livermet.registry.bulk`` does the work);
exports are de-identified by default (``livermet.registry.privacy``) and audited once the
registry has been read. The analysis export (``analysis_export``) is the same export in another
format and uses the same query (``case_service.case_query``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from livermet.case.model import Case
from livermet.registry.access import Action
from livermet.registry.bulk import CHUNK_SIZE, ProgressCallback, run_import
from livermet.registry.case_service import case_query
from livermet.registry.context import Context, Service
from livermet.registry.documents import case_from_document
from livermet.registry.entities import CaseInput, ExportedCase, ImportReport
from livermet.registry.models import SiteRow
from livermet.registry.privacy import deidentify_document


def export_action(deidentified: bool) -> Action:
    """Return the right an export needs: de-identified or full (``livermet.registry.access``)."""
    return Action.EXPORT_DEIDENTIFIED if deidentified else Action.EXPORT_FULL


def record_export(context: Context, deidentified: bool, after: dict[str, Any]) -> None:
    """Append the audit record of an export (after the read, before anything leaves).

    Parameters
    ----------
    context
        The exporting user's context; the user is re-read (a deactivated user is refused).
    deidentified
        Whether the export was de-identified (the record's entity id says so).
    after
        What was exported: sites, count, case ids and the filters.
    """
    with context.writing() as unit:
        unit.audit.append(
            "export", "export", "de-identified" if deidentified else "full", after=after
        )


class ExchangeService(Service):
    """Imports and exports of cases, for one user."""

    def import_cases(
        self,
        cases: Iterable[Case | CaseInput],
        *,
        source: str,
        site: str | None = None,
        merge: bool = False,
        on_progress: ProgressCallback | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> ImportReport:
        """Import many cases all-or-nothing, in one transaction.

        Parameters
        ----------
        cases
            Cases, or :class:`CaseInput` (a case with its hospital number, site and file row).
        source
            What is imported (a file name): recorded in the audit log.
        site
            Site of the cases that do not name one (default: the user's site).
        merge
            A patient the site holds already (same pseudonym) is updated with the imported
            case instead of refusing the import; unless the case was exported at another
            version than the stored one (``CaseInput.version``): a conflict.
        on_progress
            Called as ``on_progress(done, total)`` after each chunk of rows.
        chunk_size
            Rows checked and inserted per step (one multi-row ``INSERT``).

        Returns
        -------
        ImportReport
            What was created and merged.

        Raises
        ------
        ImportRejected
            (``InputError``) when any row is bad; ``problems`` lists every rejected row with
            its row number, field and reason. Nothing is stored.
        ImportConflict
            (``ConflictError``) when rows are duplicates (and ``merge`` is off), reuse a case
            id, or would merge into a case changed since it was exported; nothing is stored.
        ForbiddenError
            when the user may not write at one of the sites.
        """
        entries = [c if isinstance(c, CaseInput) else CaseInput(c) for c in cases]
        with self._ctx.writing() as unit:
            default_site = site or unit.actor.site
            codes = {e.site for e in entries if e.site} | ({default_site} - {None})
            sites = {
                row.code: row
                for row in unit.session.scalars(select(SiteRow).where(SiteRow.code.in_(codes)))
            }
            return run_import(
                unit.session,
                unit.audit,
                unit.actor,
                entries,
                sites,
                default_site,
                merge=merge,
                source=source,
                on_progress=on_progress,
                chunk_size=chunk_size,
            )

    def export_cases(
        self,
        *,
        sites: Iterable[str] | None = None,
        deidentified: bool = True,
        include_synthetic: bool = False,
        only_synthetic: bool = False,
    ) -> list[ExportedCase]:
        """Return cases to take out of the registry, de-identified by default; audited.

        A full export (``deidentified=False``) needs the full-export right for every site
        exported; a de-identified one the de-identified right (``livermet.registry.access``).
        Without ``sites``, every site the user may export is exported.
        """
        action = export_action(deidentified)
        exported: list[ExportedCase] = []
        case_ids: list[str] = []  # the registry's ids, for the audit record
        with self._ctx.reading() as unit:
            query = case_query(
                unit.session, unit.actor, action, sites, include_synthetic, only_synthetic
            )
            for row, site in unit.session.execute(query.execution_options(yield_per=1000)):
                case_ids.append(row.case_id)
                document = row.document
                if deidentified:
                    document = deidentify_document(
                        document, pseudonym=row.pseudonym, secret=site.pseudonym_secret
                    )
                exported.append(
                    ExportedCase(
                        case_from_document(document),
                        site.code,
                        row.synthetic,
                        None if deidentified else row.pseudonym,
                        row.version,
                    )
                )
                unit.session.expunge(row)
        after = {
            "deidentified": deidentified,
            "sites": sorted({e.site for e in exported}),
            "count": len(exported),
            "include_synthetic": include_synthetic or only_synthetic,
            "case_ids": case_ids,
        }
        record_export(self._ctx, deidentified, after)
        return exported

    def record_federated_release(self, details: dict[str, Any]) -> None:
        """Append the audit record of a federated release (an aggregate file leaving the site).

        Needs the de-identified export right (``livermet.registry.access``): aggregates leave
        the site, as an export does. Written before the file is, so that nothing leaves
        unrecorded; entity ``federated``, action ``federated.release``, the aggregate file's
        SHA-256 as the entity id and ``details`` (the request's and the aggregate's SHA-256, the
        analysis, the round, the numbers released; never case content) as ``after``
        (docs/federated.md#the-audit-record).

        Raises
        ------
        ForbiddenError
            when the user may not export de-identified data.
        """
        with self._ctx.writing(Action.EXPORT_DEIDENTIFIED) as unit:
            unit.audit.append(
                "federated.release",
                "federated",
                str(details["aggregate_sha256"]),
                site=unit.actor.site,
                after=details,
            )
