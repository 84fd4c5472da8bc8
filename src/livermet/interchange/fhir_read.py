"""FHIR Bundle JSON (as written by :mod:`livermet.interchange.fhir_write`) -> case document.

Resources are found by their ``case-element`` extension; resources without it (added by another
system) are skipped, and ``derived.*`` resources are recomputed by livermet, never read. The
result is a plain case document, validated afterwards by the case model.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from livermet.errors import InputError
from livermet.interchange import codes
from livermet.interchange.fhir_parts import (
    PROCEDURE_FLAGS,
    SIMPLE_OBSERVATIONS,
    Json,
    date_of,
    discharge_of,
    element_of,
    ext_value,
    exts,
    get_when,
    number_of,
    offset_from_parts,
    one_ext,
    reported_of,
    segments_of,
    time_of,
)

_ITEM = re.compile(r"^(?P<list>.+?)\[(?P<index>\d+)\](?:\.(?P<rest>[a-z0-9_]+))?$")


def _reverse(mapping: dict[Any, codes.Code]) -> dict[tuple[str, str], Any]:
    return {(c.system, c.code): key for key, c in mapping.items()}


_LATERALITY = _reverse(codes.LATERALITY)
_GRADE = _reverse(codes.FNCLCC_GRADE)


def _text(concept: Any, path: str) -> str:
    if not isinstance(concept, dict) or not isinstance(concept.get("text"), str):
        raise InputError("expected a CodeableConcept with a text", path)
    return str(concept["text"])


def _coded(concept: Any, reverse: dict[tuple[str, str], Any], path: str) -> Any:
    """Return the case value of a concept: its code when livermet maps it, else its text."""
    for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
        key = (coding.get("system"), coding.get("code"))
        if key in reverse:
            return reverse[key]
    return _text(concept, path)


def _note(resource: Json) -> str | None:
    notes = resource.get("note") or []
    return str(notes[0]["text"]) if notes else None


def _longest(resource: Json, path: str) -> Any:
    for component in resource.get("component", []):
        for coding in component.get("code", {}).get("coding", []):
            if coding.get("code") == codes.LOINC_TUMOR_LONGEST.code:
                return reported_of(component.get("valueQuantity", {}), path)
    raise InputError("a tumour size without its longest dimension (LOINC 33728-7)", path)


class _Reader:
    def __init__(self, bundle: Json) -> None:
        self.by_element: dict[str, Json] = {}
        for n, entry in enumerate(bundle.get("entry") or []):
            resource = entry.get("resource") or {}
            element = element_of(resource)
            if element is None or element.startswith("derived."):
                continue
            if element in self.by_element:
                raise InputError(f"two resources carry the element {element!r}", f"entry[{n}]")
            self.by_element[element] = resource
        identifier = bundle.get("identifier") or {}
        system_ok = identifier.get("system") == codes.CASE_ID_SYSTEM
        self.case_id = identifier.get("value") if system_ok else None

    def items(self, name: str) -> list[Json]:
        """Return the resources of list ``name`` (``liver_lesions``), in order, gaps refused."""
        found: dict[int, Json] = {}
        for element, resource in self.by_element.items():
            m = _ITEM.match(element)
            if m and m.group("list") == name and m.group("rest") is None:
                found[int(m.group("index"))] = resource
        if sorted(found) != list(range(len(found))):
            raise InputError(f"the items of {name} are not numbered 0..{len(found) - 1}", name)
        return [found[i] for i in range(len(found))]

    def get(self, element: str) -> Json | None:
        return self.by_element.get(element)

    def require(self, element: str) -> Json:
        resource = self.get(element)
        if resource is None:
            raise InputError("the bundle has no resource for it", element)
        return resource

    def check_known(self) -> None:
        known = set(SIMPLE_OBSERVATIONS) | {
            "patient",
            "primary_tumour",
            "primary_tumour.reported_grade",
            "labs.bilirubin",
            "liver_function.gsa",
        }
        for element in self.by_element:
            m = _ITEM.match(element)
            base = m.group("list") if m else element
            rest = m.group("rest") if m else None
            if element in known or (m and base in _LISTS and rest in _LISTS[base]):
                continue
            owner = re.fullmatch(
                r"(procedures\[\d+\])\.complications|(imaging\[\d+\])\.measurements", base or ""
            )
            if m and rest is None and owner:
                if (owner.group(1) or owner.group(2)) not in self.by_element:
                    raise InputError("an item of a resource the bundle lacks", element)
                continue
            raise InputError("not an element livermet knows (written by a newer version?)", element)

    # --- the document --------------------------------------------------------------------------

    def document(self) -> Json:
        self.check_known()
        if not isinstance(self.case_id, str):
            raise InputError(
                f"the bundle has no identifier with system {codes.CASE_ID_SYSTEM}", "id"
            )
        patient = self.require("patient")
        doc: Json = {"id": self.case_id}
        doc["schema_version"] = ext_value(patient, "case-schema-version", "valueInteger")
        doc["index_event"] = ext_value(patient, "index-event", "valueString")
        for key, name in (("source", "case-source"), ("notes", "case-notes")):
            value = ext_value(patient, name, "valueString")
            if value is not None:
                doc[key] = value
        doc["patient"] = self.patient(patient)
        doc["primary_tumour"] = self.primary()
        doc["liver_lesions"] = [
            self.lesion(i, r) for i, r in enumerate(self.items("liver_lesions"))
        ]
        if ext_value(patient, "extrahepatic-metastases-assessed", "valueBoolean"):
            doc["extrahepatic_metastases"] = [
                _text((r.get("bodySite") or [None])[0], f"extrahepatic_metastases[{i}]")
                for i, r in enumerate(self.items("extrahepatic_metastases"))
            ]
        elif self.items("extrahepatic_metastases"):
            raise InputError(
                "sites are given but the patient lacks extrahepatic-metastases-assessed",
                "extrahepatic_metastases",
            )
        doc["labs"] = self.group("labs")
        doc["liver_function"] = self.group("liver_function")
        gsa = self.gsa()
        if gsa is not None:
            doc["liver_function"]["gsa"] = gsa
        doc["imaging"] = [self.imaging(i, r) for i, r in enumerate(self.items("imaging"))]
        doc["biopsies"] = [self.biopsy(i, r) for i, r in enumerate(self.items("biopsies"))]
        doc["procedures"] = [self.procedure(i, r) for i, r in enumerate(self.items("procedures"))]
        doc["systemic_therapy"] = [
            self.therapy(i, r) for i, r in enumerate(self.items("systemic_therapy"))
        ]
        doc["follow_up"] = [self.follow_up(i, r) for i, r in enumerate(self.items("follow_up"))]
        assessed_on = ext_value(patient, "assessed-on", "valueDate")
        if assessed_on is not None:
            doc["assessed_on"] = date_of(assessed_on, "assessed_on")
        statements: Json = {}
        for key, name in (
            (
                "observation_period_after_liver_resection_months",
                "stated-observation-period-after-liver-resection-months",
            ),
            (
                "observation_period_after_primary_months",
                "stated-observation-period-after-primary-months",
            ),
        ):
            value = ext_value(patient, name, "valueDecimal")
            if value is not None:
                statements[key] = number_of(value, f"statements.{key}")
        doc["statements"] = statements
        return doc

    def patient(self, resource: Json) -> Json:
        out: Json = {}
        age = ext_value(resource, "age-at-presentation", "valueAge")
        if age is not None:
            value = age.get("value")
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"expected whole years, got {value!r}", "patient.age_years")
            out["age_years"] = value
        if "gender" in resource:
            out["sex"] = resource["gender"]
        out["comorbidities"] = [
            _text(r.get("code"), f"patient.comorbidities[{i}]")
            for i, r in enumerate(self.items("patient.comorbidities"))
        ]
        out.update(self.group("patient"))
        return out

    def group(self, group: str) -> Json:
        """Return the simple observations of a part of the case (``labs``, ``liver_function``)."""
        out: Json = {}
        for element, spec in SIMPLE_OBSERVATIONS.items():
            name = element.split(".")[1]
            resource = self.get(element)
            if element.startswith(group + ".") and resource is not None:
                out[name] = _simple_value(spec.kind, resource, element)
        if group == "labs" and (bilirubin := self.get("labs.bilirubin")) is not None:
            out["bilirubin"] = reported_of(bilirubin.get("valueQuantity", {}), "labs.bilirubin")
        return out

    def gsa(self) -> Json | None:
        resource = self.get("liver_function.gsa")
        if resource is None:
            return None
        out: Json = {}
        for component in resource.get("component", []):
            element = ext_value(component, "case-element", "valueString")
            name = str(element).rsplit(".", 1)[-1]
            if name not in ("hh15", "lhl15"):
                raise InputError("a GSA component livermet does not know", str(element))
            out[name] = number_of(component.get("valueQuantity", {}).get("value"), str(element))
        return out

    def primary(self) -> Json:
        resource = self.require("primary_tumour")
        path = "primary_tumour"
        out: Json = {}
        histology = next(
            (
                e.get("valueCodeableConcept")
                for e in resource.get("extension", [])
                if e.get("url") == codes.HISTOLOGY_MORPHOLOGY_BEHAVIOR
            ),
            None,
        )
        out["histology"] = _text(histology, f"{path}.histology")
        body = (resource.get("bodySite") or [None])[0]
        out["site"] = _text(body, f"{path}.site")
        laterality = next(
            (
                e.get("valueCodeableConcept")
                for e in (body or {}).get("extension", [])
                if e.get("url") == codes.LATERALITY_QUALIFIER
            ),
            None,
        )
        if laterality is not None:
            out["laterality"] = _coded(laterality, _LATERALITY, f"{path}.laterality")
        out["site_group"] = ext_value(resource, "site-group", "valueCode")
        for key, name, value_key in (
            ("depth", "tumour-depth", "valueCode"),
            ("histology_variant", "histology-variant", "valueString"),
        ):
            value = ext_value(resource, name, value_key)
            if value is not None:
                out[key] = value
        out["sizes"] = [
            self.size(f"{path}.sizes[{i}]", r)
            for i, r in enumerate(self.items("primary_tumour.sizes"))
        ]
        out["immunohistochemistry"] = [
            self.ihc(f"{path}.immunohistochemistry[{i}]", r)
            for i, r in enumerate(self.items("primary_tumour.immunohistochemistry"))
        ]
        out.update(self.group("primary_tumour"))
        asserted = next(
            (
                e.get("valueDateTime")
                for e in resource.get("extension", [])
                if e.get("url") == codes.CONDITION_ASSERTED_DATE
            ),
            None,
        )
        diagnosed = get_when(resource, "", f"{path}.diagnosed")
        if asserted is not None:
            diagnosed = date_of(asserted, f"{path}.diagnosed")
        if diagnosed is not None:
            out["diagnosed"] = diagnosed
        grade = self.get("primary_tumour.reported_grade")
        if grade is not None:
            value = _coded(grade.get("valueCodeableConcept"), _GRADE, f"{path}.reported_grade")
            if isinstance(value, str):
                digits = re.findall(r"[123]", value)
                value = int(digits[-1]) if digits else value
            out["reported_grade"] = value
        return out

    def size(self, path: str, resource: Json) -> Json:
        out: Json = {
            "method": _text(resource.get("method"), f"{path}.method"),
            "greatest_dimension": _longest(resource, f"{path}.greatest_dimension"),
            "dimensions": [
                reported_of(e.get("valueQuantity", {}), f"{path}.dimensions")
                for e in exts(resource, "tumour-dimensions")
            ],
        }
        source = _note(resource)
        if source is not None:
            out["source"] = source
        return out

    def ihc(self, path: str, resource: Json) -> Json:
        out: Json = {"marker": _text(resource.get("code"), f"{path}.marker")}
        interpretation = resource.get("interpretation") or []
        if interpretation:
            out["result"] = _text(interpretation[0], f"{path}.result")
        if "valueString" in resource:
            out["value"] = resource["valueString"]
        return out

    def lesion(self, i: int, resource: Json) -> Json:
        path = f"liver_lesions[{i}]"
        out: Json = {
            "segments": segments_of(resource),
            "number": ext_value(resource, "lesion-count", "valueInteger"),
        }
        for key, name in (
            ("size_method", "lesion-size-method"),
            ("timing", "metastasis-timing"),
            ("vascularity", "lesion-vascularity"),
        ):
            value = ext_value(resource, name, "valueCode")
            if value is not None:
                out[key] = value
        peripheral = ext_value(resource, "lesion-peripheral", "valueBoolean")
        if peripheral is not None:
            out["peripheral"] = peripheral
        for key, name in (
            ("bile_duct_distance", "bile-duct-distance"),
            ("abutting_vessel", "abutting-vessel"),
        ):
            q = ext_value(resource, name, "valueQuantity")
            if q is not None:
                out[key] = reported_of(q, f"{path}.{key}")
        size = self.get(f"{path}.size")
        if size is not None:
            out["size"] = _longest(size, f"{path}.size")
        labels = [
            ident.get("value")
            for ident in resource.get("identifier", [])
            if ident.get("system") == codes.LESION_LABEL_SYSTEM
        ]
        if labels:
            out["id"] = labels[0]
        detected = get_when(resource, "onsetDateTime", f"{path}.detected")
        if detected is not None:
            out["detected"] = detected
        source = _note(resource)
        if source is not None:
            out["source"] = source
        return out

    def imaging(self, i: int, resource: Json) -> Json:
        path = f"imaging[{i}]"
        out: Json = {
            "modality": _text(resource.get("code"), f"{path}.modality"),
            "target": ext_value(resource, "finding-target", "valueString"),
            "finding": resource.get("conclusion"),
        }
        _put_segments(out, "segments", resource)
        size = self.get(f"{path}.size")
        if size is not None:
            out["size"] = reported_of(size.get("valueQuantity", {}), f"{path}.size")
        suv = self.get(f"{path}.suv_max")
        if suv is not None:
            value = suv.get("valueQuantity", {}).get("value")
            out["suv_max"] = number_of(value, f"{path}.suv_max")
        when = get_when(resource, "effectiveDateTime", f"{path}.when")
        if when is not None:
            out["when"] = when
        new_lesions = ext_value(resource, "new-lesions", "valueBoolean")
        if new_lesions is not None:
            out["new_lesions"] = new_lesions
        out["measurements"] = [
            self.measurement(f"{path}.measurements[{j}]", r)
            for j, r in enumerate(self.items(f"{path}.measurements"))
        ]
        return out

    def measurement(self, path: str, resource: Json) -> Json:
        components = resource.get("component") or []
        if not components:
            raise InputError("a lesion measurement without its diameter component", path)
        out: Json = {
            "lesion": ext_value(resource, "lesion-label", "valueString"),
            "diameter": reported_of(components[0].get("valueQuantity", {}), f"{path}.diameter"),
            "organ": _text(resource.get("bodySite"), f"{path}.organ"),
        }
        for key, name in (("target", "recist-target"), ("lymph_node", "lymph-node")):
            flag = ext_value(resource, name, "valueBoolean")
            if flag is not None:
                out[key] = flag
        return out

    def therapy(self, i: int, resource: Json) -> Json:
        path = f"systemic_therapy[{i}]"
        out: Json = {"regimen": _text(resource.get("medicationCodeableConcept"), f"{path}.regimen")}
        setting = ext_value(resource, "therapy-setting", "valueCode")
        if setting is not None:
            out["setting"] = setting
        period = resource.get("effectivePeriod") or {}
        for key, name, part in (
            ("started", "therapy-started", "start"),
            ("ended", "therapy-ended", "end"),
        ):
            relative = one_ext(resource, name)
            if relative is not None:
                out[key] = offset_from_parts(relative.get("extension", []), f"{path}.{key}")
            elif part in period:
                out[key] = date_of(period[part], f"{path}.{key}")
        return out

    def biopsy(self, i: int, resource: Json) -> Json:
        path = f"biopsies[{i}]"
        out: Json = {
            "target": ext_value(resource, "finding-target", "valueString"),
            "method": _text(resource.get("code"), f"{path}.method"),
            "diagnosis": _text(resource.get("outcome"), f"{path}.diagnosis"),
        }
        when = get_when(resource, "performedDateTime", f"{path}.when")
        if when is not None:
            out["when"] = when
        return out

    def procedure(self, i: int, resource: Json) -> Json:
        """Return the case document of procedure ``i`` from its Procedure resource."""
        path = f"procedures[{i}]"
        out: Json = {
            "id": _procedure_id(resource),
            "kind": ext_value(resource, "procedure-kind", "valueCode"),
        }
        _put_segments(out, "segments_resected", resource)
        targets = segments_of(resource, "target-segments")
        if targets:
            out["target_segments"] = targets
        if "code" in resource:
            out["name"] = _text(resource["code"], f"{path}.name")
        status = ext_value(resource, "procedure-status", "valueCode")
        _put_given(out, "status", status)
        _put_given(out, "when", _procedure_when(resource, status, path))
        _put_given(out, "approach", ext_value(resource, "surgical-approach", "valueCode"))
        duration = ext_value(resource, "operative-duration", "valueDuration")
        if duration is not None:
            out["duration"] = reported_of(duration, f"{path}.duration")
        for key, name in PROCEDURE_FLAGS:
            _put_given(out, key, ext_value(resource, name, "valueBoolean"))
        _put_given(out, "discharge", discharge_of(resource, f"{path}.discharge"))
        out["complications"] = [
            self.complication(f"{path}.complications[{j}]", r)
            for j, r in enumerate(self.items(f"{path}.complications"))
        ]
        self.put_procedure_results(out, path)
        return out

    def put_procedure_results(self, out: Json, path: str) -> None:
        """Add the blood loss and the margin of procedure ``path`` (their own Observations)."""
        blood_loss = self.get(f"{path}.blood_loss")
        if blood_loss is not None:
            q = blood_loss.get("valueQuantity", {})
            out["blood_loss"] = reported_of(q, f"{path}.blood_loss")
        margin = self.get(f"{path}.margin")
        if margin is not None:
            out["margin"] = _text(margin.get("valueCodeableConcept"), f"{path}.margin")

    def complication(self, path: str, resource: Json) -> Json:
        out: Json = {"description": _text(resource.get("code"), f"{path}.description")}
        grade = one_ext(resource, "clavien-dindo")
        if grade is not None:
            out["clavien_dindo"] = _text(grade.get("valueCodeableConcept"), f"{path}.clavien_dindo")
        treatment = ext_value(resource, "complication-treatment", "valueString")
        if treatment is not None:
            out["treatment"] = treatment
        onset = ext_value(resource, "onset-postoperative-day", "valueInteger")
        if onset is not None:
            out["onset_pod"] = onset
        return out

    def follow_up(self, i: int, resource: Json) -> Json:
        path = f"follow_up[{i}]"
        out: Json = {
            "kind": ext_value(resource, "follow-up-kind", "valueCode"),
            "when": get_when(resource, "effectiveDateTime", f"{path}.when"),
        }
        if "bodySite" in resource:
            out["site"] = _text(resource["bodySite"], f"{path}.site")
        if "valueCodeableConcept" in resource:
            out["status"] = _text(resource["valueCodeableConcept"], f"{path}.status")
        return out


# List elements and the sub-elements each item may carry (None = the item itself).
_LISTS: dict[str, set[str | None]] = {
    "patient.comorbidities": {None},
    "primary_tumour.sizes": {None},
    "primary_tumour.immunohistochemistry": {None},
    "liver_lesions": {None, "size"},
    "extrahepatic_metastases": {None},
    "imaging": {None, "size", "suv_max"},
    "biopsies": {None},
    "procedures": {None, "blood_loss", "margin"},
    "follow_up": {None},
    "systemic_therapy": {None},
}


def _put_given(out: Json, key: str, value: Any) -> None:
    """Set ``out[key]`` to ``value`` unless it is None (an absent field stays absent)."""
    if value is not None:
        out[key] = value


def _procedure_id(resource: Json) -> Any:
    """Return the procedure's id: its first identifier in livermet's system, None without one."""
    ids = [
        ident.get("value")
        for ident in resource.get("identifier", [])
        if ident.get("system") == codes.PROCEDURE_ID_SYSTEM
    ]
    return ids[0] if ids else None


def _procedure_when(resource: Json, status: Any, path: str) -> dt.date | Json | None:
    """Return when a procedure took place: ``planned-time`` if planned, else ``performed[x]``."""
    if status == "planned":
        return time_of(resource, "planned-time", f"{path}.when")
    return get_when(resource, "performedDateTime", f"{path}.when")


def _put_segments(out: Json, key: str, resource: Json) -> None:
    # An explicit empty list is refused by the case model (its default is not validated), so an
    # absent list stays absent.
    segments = segments_of(resource)
    if segments:
        out[key] = segments


def _simple_value(kind: str, resource: Json, element: str) -> Any:
    if kind.startswith("reported:"):
        return reported_of(resource.get("valueQuantity", {}), element)
    if kind == "integer":
        return resource.get("valueInteger")
    if kind == "percent":
        return number_of(resource.get("valueQuantity", {}).get("value"), element)
    if kind == "boolean":
        return resource.get("valueBoolean")
    if kind == "choice":
        return _text(resource.get("valueCodeableConcept"), element)
    if kind == "string":
        return resource.get("valueString")
    raise AssertionError(kind)


def bundle_document(bundle: Json) -> Json:
    """Return the case document (for ``Case.model_validate``) carried by a bundle's JSON."""
    return _Reader(bundle).document()
