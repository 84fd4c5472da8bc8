"""Case -> FHIR R4 (mCODE STU4-shaped) resources, as JSON mappings.

One resource per case element; each carries the ``case-element`` extension naming the case-model
path it holds (``labs.bilirubin``, ``procedures[1]``...), which is how the reader finds it again.
Resources whose element starts with ``derived.`` (AJCC stage) are computed, not case data, and are
ignored when reading. docs/interchange.md maps every field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from livermet.case.model import (
    Biopsy,
    Case,
    Complication,
    FollowUpEvent,
    Imaging,
    Immunohistochemistry,
    LesionMeasurement,
    LiverLesion,
    Procedure,
    Reported,
    SizeMeasurement,
    SystemicTherapy,
)
from livermet.clinical.complications import parse_clavien_dindo
from livermet.errors import InputError
from livermet.interchange import codes
from livermet.interchange.codes import concept
from livermet.interchange.fhir_parts import (
    PROCEDURE_FLAGS,
    SIMPLE_OBSERVATIONS,
    Json,
    category,
    discharge_ext,
    ext,
    length_quantity,
    offset_parts,
    put_when,
    quantity,
    reference,
    segment_exts,
    text,
    time_ext,
    url,
)

_NAMESPACE = uuid.UUID("6f1f7c1e-3c55-5b0e-9f43-2d1e8f0a7c11")
"""Fixed namespace of the deterministic entry ids (uuid5 of case id + element)."""


def full_url(case_id: str, element: str) -> str:
    """Deterministic ``urn:uuid:`` of an element, so that writing twice gives the same bundle."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, case_id + chr(0) + element)}"


class _Writer:
    def __init__(self, case: Case, patient_ref: str | None) -> None:
        self.case = case
        self.patient_ref = patient_ref
        self.entries: list[tuple[str, Json]] = []
        self.patient = reference(self.url("patient"))
        self.primary = reference(self.url("primary_tumour"))

    def url(self, element: str) -> str:
        return full_url(self.case.id, element)

    def add(self, element: str, resource: Json) -> None:
        resource["extension"] = [
            ext("case-element", valueString=element),
            *resource.get("extension", []),
        ]
        self.entries.append((self.url(element), resource))

    def observation(self, element: str, code: Json, **fields: Any) -> Json:
        obs: Json = {
            "resourceType": "Observation",
            "status": "final",
            "code": code,
            "subject": self.patient,
        }
        obs.update(fields)
        self.add(element, obs)
        return obs

    # --- patient and case-level fields ----------------------------------------------------

    def write_patient(self) -> None:
        """Add the Patient (case-level fields as extensions) and a Condition per comorbidity."""
        case = self.case
        extension = _case_extensions(case)
        pseudonym = self.patient_ref if self.patient_ref is not None else case.id
        resource: Json = {
            "resourceType": "Patient",
            "extension": extension,
            "identifier": [
                {"system": codes.PATIENT_PSEUDONYM_SYSTEM, "value": text(pseudonym, "patient_ref")}
            ],
        }
        if case.patient.sex is not None:
            resource["gender"] = case.patient.sex
        resource.update(_deceased(case))
        self.add("patient", resource)
        for i, name in enumerate(case.patient.comorbidities):
            path = f"patient.comorbidities[{i}]"
            self.add(
                path,
                {
                    "resourceType": "Condition",
                    "code": concept(text(name, path)),
                    "subject": self.patient,
                },
            )

    # --- simple observations ----------------------------------------------------------------

    def write_simple(self) -> None:
        for element, spec in SIMPLE_OBSERVATIONS.items():
            group, name = element.split(".")
            value = getattr(getattr(self.case, group), name)
            if value is None:
                continue
            fields: Json = {"category": category(spec.category)} if spec.category else {}
            if spec.tumour:
                fields["extension"] = [
                    {"url": codes.RELATED_CONDITION, "valueReference": self.primary}
                ]
            fields.update(_value(spec.kind, value, element))
            self.observation(element, spec.concept, **fields)
        bilirubin = self.case.labs.bilirubin
        if bilirubin is not None:
            q = quantity(bilirubin, "bilirubin", "labs.bilirubin")
            loinc = codes.bilirubin_loinc(q.get("unit", "mg/dL"))
            self.observation(
                "labs.bilirubin",
                concept("Bilirubin, total", loinc),
                category=category("laboratory"),
                valueQuantity=q,
            )
        gsa = self.case.liver_function.gsa
        if gsa is not None:
            components = [
                {
                    "extension": [ext("case-element", valueString=f"liver_function.gsa.{name}")],
                    "code": concept(label),
                    "valueQuantity": {"value": value},
                }
                for name, label, value in (
                    ("hh15", "HH15 (blood clearance index)", gsa.hh15),
                    ("lhl15", "LHL15 (receptor index)", gsa.lhl15),
                )
                if value is not None
            ]
            fields = {"category": category("imaging")}
            if components:
                fields["component"] = components
            self.observation(
                "liver_function.gsa", concept("99mTc-GSA liver scintigraphy"), **fields
            )

    # --- primary tumour -----------------------------------------------------------------------

    def write_primary(self) -> None:
        t = self.case.primary_tumour
        histology = text(t.histology, "primary_tumour.histology")
        site = text(t.site, "primary_tumour.site")
        body: Json = concept(site, codes.primary_site_topography(site, t.site_group))
        if t.laterality is not None:
            body["extension"] = [
                {
                    "url": codes.LATERALITY_QUALIFIER,
                    "valueCodeableConcept": concept(t.laterality, codes.LATERALITY[t.laterality]),
                }
            ]
        morphology = codes.histology_morphology(histology, t.histology_variant, metastatic=False)
        extension = [
            {
                "url": codes.HISTOLOGY_MORPHOLOGY_BEHAVIOR,
                "valueCodeableConcept": concept(histology, morphology),
            },
            ext("site-group", valueCode=t.site_group),
        ]
        if t.depth is not None:
            extension.append(ext("tumour-depth", valueCode=t.depth))
        if t.histology_variant is not None:
            variant = text(t.histology_variant, "primary_tumour.histology_variant")
            extension.append(ext("histology-variant", valueString=variant))
        if isinstance(t.diagnosed, dt.date):  # mCODE: the date of diagnosis is assertedDate
            extension.append(
                {"url": codes.CONDITION_ASSERTED_DATE, "valueDateTime": t.diagnosed.isoformat()}
            )
        side = f"{t.laterality} " if t.laterality in ("left", "right") else ""
        condition: Json = {
            "resourceType": "Condition",
            "extension": extension,
            "code": concept(
                f"{histology} of the {side}{site}",
                codes.primary_disorder_code(site, t.site_group, t.laterality),
            ),
            "bodySite": [body],
            "subject": self.patient,
        }
        if t.diagnosed is not None and not isinstance(t.diagnosed, dt.date):
            put_when(condition, "", t.diagnosed)  # an offset: the relative-time extension
        self.add("primary_tumour", condition)
        for i, size in enumerate(t.sizes):
            self.write_size(f"primary_tumour.sizes[{i}]", size)
        for i, ihc in enumerate(t.immunohistochemistry):
            self.write_ihc(f"primary_tumour.immunohistochemistry[{i}]", ihc)
        if t.reported_grade is not None:
            grade = t.reported_grade
            self.observation(
                "primary_tumour.reported_grade",
                concept("Histologic grade", codes.NCIT_HISTOLOGIC_GRADE),
                extension=[{"url": codes.RELATED_CONDITION, "valueReference": self.primary}],
                category=category("laboratory"),
                valueCodeableConcept=concept(f"FNCLCC grade {grade}", codes.FNCLCC_GRADE[grade]),
                method=concept("FNCLCC (French Federation of Cancer Centers) grading system"),
            )

    def write_size(self, element: str, size: SizeMeasurement) -> None:
        extension: list[Json] = [{"url": codes.RELATED_CONDITION, "valueReference": self.primary}]
        extension += [
            ext("tumour-dimensions", valueQuantity=quantity(d, "size", f"{element}.dimensions"))
            for d in size.dimensions
        ]
        kind = {"pathology": "laboratory", "palpation": "exam"}.get(size.method, "imaging")
        fields: Json = {
            "extension": extension,
            "category": category(kind),
            "method": concept(size.method, codes.SIZE_METHOD.get(size.method)),
            "component": [
                {
                    "code": concept("Tumor longest dimension", codes.LOINC_TUMOR_LONGEST),
                    "valueQuantity": quantity(
                        size.greatest_dimension, "size", f"{element}.greatest_dimension"
                    ),
                }
            ],
        }
        if size.source is not None:
            fields["note"] = [{"text": text(size.source, f"{element}.source")}]
        self.observation(element, concept("Tumor size", codes.LOINC_TUMOR_SIZE), **fields)

    def write_ihc(self, element: str, ihc: Immunohistochemistry) -> None:
        fields: Json = {
            "extension": [{"url": codes.RELATED_CONDITION, "valueReference": self.primary}],
            "category": category("laboratory"),
        }
        if ihc.result is not None:
            fields["interpretation"] = [concept(ihc.result)]
        if ihc.value is not None:
            fields["valueString"] = text(ihc.value, f"{element}.value")
        self.observation(element, concept(text(ihc.marker, f"{element}.marker")), **fields)

    # --- metastases ------------------------------------------------------------------------------

    def write_lesion(self, i: int, lesion: LiverLesion) -> None:
        """Add liver lesion ``i`` as a Condition, and its size as an Observation when given."""
        element = f"liver_lesions[{i}]"
        where = ", ".join(str(s) for s in lesion.segments)
        resource: Json = {
            "resourceType": "Condition",
            "extension": self.lesion_extensions(lesion),
            "code": concept(
                "Secondary malignant neoplasm of liver",
                codes.SNOMED_LIVER_METASTASIS,
                codes.ICD10CM_LIVER_METASTASIS,
            ),
            "bodySite": [concept(f"liver, segment(s) {where}", codes.ICDO3_TOPOGRAPHY_LIVER)],
            "subject": self.patient,
        }
        if lesion.id is not None:
            label = text(lesion.id, f"{element}.id")
            resource["identifier"] = [{"system": codes.LESION_LABEL_SYSTEM, "value": label}]
        if lesion.source is not None:
            resource["note"] = [{"text": text(lesion.source, f"{element}.source")}]
        put_when(resource, "onsetDateTime", lesion.detected)  # mCODE: onset = diagnosis of the met
        self.add(element, resource)
        if lesion.size is not None:
            self.write_lesion_size(element, lesion.size, lesion.size_method)

    def lesion_extensions(self, lesion: LiverLesion) -> list[Json]:
        """Return a liver lesion's extensions: the primary, segments, count, morphology, traits."""
        t = self.case.primary_tumour
        morphology = codes.histology_morphology(t.histology, t.histology_variant, metastatic=True)
        extension: list[Json] = [
            {"url": codes.CONDITION_RELATED, "valueReference": self.primary},
            *segment_exts(lesion.segments),
            ext("lesion-count", valueInteger=lesion.number),
        ]
        if morphology is not None:  # derived from the primary's histology (behaviour /6)
            extension.append(
                {
                    "url": codes.HISTOLOGY_MORPHOLOGY_BEHAVIOR,
                    "valueCodeableConcept": concept(f"{t.histology}, metastatic", morphology),
                }
            )
        for name, value in (
            ("lesion-size-method", lesion.size_method),
            ("metastasis-timing", lesion.timing),
            ("lesion-vascularity", lesion.vascularity),
        ):
            if value is not None:
                extension.append(ext(name, valueCode=value))
        if lesion.peripheral is not None:
            extension.append(ext("lesion-peripheral", valueBoolean=lesion.peripheral))
        for name, length in (
            ("bile-duct-distance", lesion.bile_duct_distance),
            ("abutting-vessel", lesion.abutting_vessel),
        ):
            if length is not None:
                extension.append(ext(name, valueQuantity=length_quantity(length)))
        return extension

    def write_lesion_size(self, element: str, size: Reported, method: str | None) -> None:
        """Add the size of the lesion at ``element`` as a TumorSize-shaped Observation."""
        fields: Json = {
            "extension": [
                {"url": codes.RELATED_CONDITION, "valueReference": reference(self.url(element))}
            ],
            "component": [
                {
                    "code": concept("Tumor longest dimension", codes.LOINC_TUMOR_LONGEST),
                    "valueQuantity": quantity(size, "size", f"{element}.size"),
                }
            ],
        }
        if method is not None:
            fields["method"] = concept(method, codes.SIZE_METHOD.get(method))
        self.observation(f"{element}.size", concept("Tumor size", codes.LOINC_TUMOR_SIZE), **fields)

    def write_metastases(self) -> None:
        for i, lesion in enumerate(self.case.liver_lesions):
            self.write_lesion(i, lesion)
        for i, site in enumerate(self.case.extrahepatic_metastases or []):
            element = f"extrahepatic_metastases[{i}]"
            self.add(
                element,
                {
                    "resourceType": "Condition",
                    "extension": [{"url": codes.CONDITION_RELATED, "valueReference": self.primary}],
                    "code": concept(
                        "Secondary malignant neoplastic disease", codes.SNOMED_SECONDARY_MALIGNANT
                    ),
                    "bodySite": [concept(text(site, element))],
                    "subject": self.patient,
                },
            )

    # --- imaging and biopsies ------------------------------------------------------------------

    def write_imaging(self, i: int, im: Imaging) -> None:
        element = f"imaging[{i}]"
        results = []
        if im.size is not None:
            self.observation(
                f"{element}.size",
                concept("Size of the imaging finding"),
                category=category("imaging"),
                valueQuantity=quantity(im.size, "size", f"{element}.size"),
            )
            results.append(reference(self.url(f"{element}.size")))
        if im.suv_max is not None:
            self.observation(
                f"{element}.suv_max",
                concept("Maximum standardized uptake value (SUVmax)"),
                category=category("imaging"),
                valueQuantity={"value": im.suv_max},
            )
            results.append(reference(self.url(f"{element}.suv_max")))
        for j, m in enumerate(im.measurements):
            self.write_measurement(f"{element}.measurements[{j}]", m)
            results.append(reference(self.url(f"{element}.measurements[{j}]")))
        report: Json = {
            "resourceType": "DiagnosticReport",
            "extension": [
                ext("finding-target", valueString=text(im.target, f"{element}.target")),
                *segment_exts(im.segments),
            ],
            "status": "final",
            "code": concept(im.modality, codes.IMAGING_MODALITY.get(im.modality)),
            "subject": self.patient,
            "conclusion": text(im.finding, f"{element}.finding"),
        }
        if im.new_lesions is not None:
            report["extension"].append(ext("new-lesions", valueBoolean=im.new_lesions))
        if results:
            report["result"] = results
        put_when(report, "effectiveDateTime", im.when)
        self.add(element, report)

    def write_measurement(self, element: str, m: LesionMeasurement) -> None:
        """Add one lesion's diameter at one time point, shaped after mCODE TumorSize.

        The code is the longest dimension; a lymph node's short axis has no LOINC code in the
        note: text only.
        """
        label = text(m.lesion, f"{element}.lesion")
        if m.lymph_node:
            axis = concept("Short axis of a lymph node (RECIST 1.1)")
        else:
            axis = concept("Tumor longest dimension", codes.LOINC_TUMOR_LONGEST)
        fields: Json = {
            "extension": [
                ext("lesion-label", valueString=label),
                ext("recist-target", valueBoolean=m.target),
                ext("lymph-node", valueBoolean=m.lymph_node),
            ],
            "category": category("imaging"),
            "bodySite": concept(text(m.organ, f"{element}.organ")),
            "component": [
                {
                    "code": axis,
                    "valueQuantity": quantity(m.diameter, "size", f"{element}.diameter"),
                }
            ],
        }
        lesions = [i for i, lesion in enumerate(self.case.liver_lesions) if lesion.id == m.lesion]
        if len(lesions) == 1:  # derived link to the lesion the label names (not read back)
            fields["focus"] = [reference(self.url(f"liver_lesions[{lesions[0]}]"))]
        self.observation(element, concept("Tumor size", codes.LOINC_TUMOR_SIZE), **fields)

    def write_biopsy(self, i: int, bx: Biopsy) -> None:
        element = f"biopsies[{i}]"
        resource: Json = {
            "resourceType": "Procedure",
            "extension": [ext("finding-target", valueString=text(bx.target, f"{element}.target"))],
            "status": "completed",
            "code": concept(text(bx.method, f"{element}.method")),
            "subject": self.patient,
            "outcome": concept(text(bx.diagnosis, f"{element}.diagnosis")),
        }
        put_when(resource, "performedDateTime", bx.when)
        self.add(element, resource)

    # --- procedures, complications ----------------------------------------------------------

    def write_procedure(self, i: int, proc: Procedure) -> None:
        """Add procedure ``i`` as a Procedure, then its complications, blood loss and margin."""
        element = f"procedures[{i}]"
        planned = proc.status == "planned"
        resource: Json = {
            "resourceType": "Procedure",
            "extension": _procedure_extensions(proc, element),
            "identifier": [
                {"system": codes.PROCEDURE_ID_SYSTEM, "value": text(proc.id, f"{element}.id")}
            ],
            # FHIR has no "planned" Procedure (a plan is a ServiceRequest): "preparation" (the
            # event has not started) and the planned date outside performed[x]
            "status": "preparation" if planned else "completed",
            "subject": self.patient,
        }
        if proc.name is not None:
            resource["code"] = concept(text(proc.name, f"{element}.name"))
        _put_procedure_time(resource, proc)
        reasons = self._reasons(proc)  # mCODE invariant mcode-reason-required (derived)
        if reasons:
            resource["reasonReference"] = reasons
        if proc.complications:
            resource["complicationDetail"] = [
                reference(self.url(f"{element}.complications[{j}]"))
                for j in range(len(proc.complications))
            ]
        self.add(element, resource)
        for j, comp in enumerate(proc.complications):
            self.write_complication(f"{element}.complications[{j}]", comp)
        self.write_procedure_results(element, proc)

    def write_procedure_results(self, element: str, proc: Procedure) -> None:
        """Add the blood loss and the margin (R) of the procedure at ``element``, when given."""
        part_of = [reference(self.url(element))]
        if proc.blood_loss is not None:
            self.observation(
                f"{element}.blood_loss",
                concept("Estimated blood loss"),
                category=category("procedure"),
                partOf=part_of,
                valueQuantity=quantity(proc.blood_loss, "blood_loss", f"{element}.blood_loss"),
            )
        if proc.margin is not None:
            self.observation(
                f"{element}.margin",
                concept("Residual tumour classification (R)"),
                category=category("laboratory"),
                partOf=part_of,
                valueCodeableConcept=concept(proc.margin),
            )

    def _reasons(self, proc: Procedure) -> list[Json]:
        if proc.kind in ("liver_resection", "liver_ablation", "chemoembolisation"):
            lesions = [
                reference(self.url(f"liver_lesions[{i}]"))
                for i in range(len(self.case.liver_lesions))
            ]
            if lesions:
                return lesions
        return [self.primary]

    def write_complication(self, element: str, comp: Complication) -> None:
        extension: list[Json] = []
        if comp.clavien_dindo is not None:
            grade = parse_clavien_dindo(comp.clavien_dindo)
            extension.append(
                ext(
                    "clavien-dindo",
                    valueCodeableConcept=concept(
                        text(comp.clavien_dindo, f"{element}.clavien_dindo"),
                        codes.Code(codes.CLAVIEN_DINDO_SYSTEM, grade),
                    ),
                )
            )
        if comp.treatment is not None:
            treatment = text(comp.treatment, f"{element}.treatment")
            extension.append(ext("complication-treatment", valueString=treatment))
        if comp.onset_pod is not None:
            extension.append(ext("onset-postoperative-day", valueInteger=comp.onset_pod))
        self.add(
            element,
            {
                "resourceType": "Condition",
                "extension": extension,
                "code": concept(text(comp.description, f"{element}.description")),
                "subject": self.patient,
            },
        )

    # --- systemic therapy ---------------------------------------------------------------------

    def write_therapy(self, i: int, line: SystemicTherapy) -> None:
        """Add a line of systemic therapy as a MedicationStatement.

        Dates go in ``effectivePeriod``, offsets in the ``therapy-started`` / ``therapy-ended``
        extensions.
        """
        element = f"systemic_therapy[{i}]"
        extension: list[Json] = []
        if line.setting is not None:
            extension.append(ext("therapy-setting", valueCode=line.setting))
        period: Json = {}
        for key, name, when in (
            ("start", "therapy-started", line.started),
            ("end", "therapy-ended", line.ended),
        ):
            if isinstance(when, dt.date):
                period[key] = when.isoformat()
            elif when is not None:
                extension.append({"url": url(name), "extension": offset_parts(when)})
        resource: Json = {
            "resourceType": "MedicationStatement",
            "extension": extension,
            "status": "completed" if line.ended is not None else "active",  # derived
            "medicationCodeableConcept": concept(text(line.regimen, f"{element}.regimen")),
            "subject": self.patient,
            "reasonReference": [self.primary],
        }
        if period:
            resource["effectivePeriod"] = period
        self.add(element, resource)

    # --- follow-up ----------------------------------------------------------------------------

    def write_follow_up(self, i: int, event: FollowUpEvent) -> None:
        element = f"follow_up[{i}]"
        obs: Json = {
            "extension": [ext("follow-up-kind", valueCode=event.kind)],
            "focus": [self.primary],
        }
        if event.status is not None:
            obs["valueCodeableConcept"] = concept(text(event.status, f"{element}.status"))
        if event.site is not None:
            obs["bodySite"] = concept(text(event.site, f"{element}.site"))
        put_when(obs, "effectiveDateTime", event.when)
        self.observation(
            element, concept("Cancer disease status", codes.LOINC_DISEASE_STATUS), **obs
        )

    # --- derived: AJCC 8 stage (computed as the assessment does; never read back) -----------

    def write_stage(self) -> None:
        # The assessment module is heavy to import (evidence engine): only when a bundle is built.
        from livermet.case.assess import grading_section, staging_section

        try:
            grade = grading_section(self.case)["fnclcc"]["grade"]
            ajcc = staging_section(self.case, grade)["ajcc8"]
        except InputError:  # e.g. a size the staging refuses: the stage is not assessable
            return
        if ajcc.get("stage") is None:
            return
        method = concept("AJCC Cancer Staging Manual, 8th edition (derived by livermet)")
        members = []
        for part, label in (
            ("t", "Primary tumour category (TNM T)"),
            ("n", "Regional nodes category (TNM N)"),
            ("m", "Distant metastases category (TNM M)"),
        ):
            if ajcc.get(part) is not None:
                element = f"derived.ajcc8.{part}"
                self.observation(
                    element,
                    concept(label),
                    focus=[self.primary],
                    method=method,
                    valueCodeableConcept=concept(str(ajcc[part])),
                )
                members.append(reference(self.url(element)))
        self.observation(
            "derived.ajcc8.stage",
            concept("TNM stage group"),
            focus=[self.primary],
            method=method,
            valueCodeableConcept=concept(f"Stage {ajcc['stage']}"),
            hasMember=members,
        )


def _case_extensions(case: Case) -> list[Json]:
    """Return the Patient extensions holding the case-level fields (version, index event...)."""
    extension = [
        ext("case-schema-version", valueInteger=case.schema_version),
        ext("index-event", valueString=text(case.index_event, "index_event")),
    ]
    for name, value, path in (
        ("case-source", case.source, "source"),
        ("case-notes", case.notes, "notes"),
    ):
        if value is not None:
            extension.append(ext(name, valueString=text(value, path)))
    if case.patient.age_years is not None:
        age = {"value": case.patient.age_years, "unit": "years", "system": codes.UCUM, "code": "a"}
        extension.append(ext("age-at-presentation", valueAge=age))
    stated = case.statements
    for name, number in (
        (
            "stated-observation-period-after-liver-resection-months",
            stated.observation_period_after_liver_resection_months,
        ),
        (
            "stated-observation-period-after-primary-months",
            stated.observation_period_after_primary_months,
        ),
    ):
        if number is not None:
            extension.append(ext(name, valueDecimal=number))
    if case.extrahepatic_metastases is not None:
        extension.append(ext("extrahepatic-metastases-assessed", valueBoolean=True))
    if case.assessed_on is not None:
        extension.append(ext("assessed-on", valueDate=case.assessed_on.isoformat()))
    return extension


def _deceased(case: Case) -> Json:
    """Return ``Patient.deceased[x]`` from the first death in the follow-up, else nothing.

    Derived for mCODE consumers; never read back (the follow-up event is the record).
    """
    death = next((e for e in case.follow_up if e.kind == "death"), None)
    if death is None:
        return {}
    if isinstance(death.when, dt.date):
        return {"deceasedDateTime": death.when.isoformat()}
    return {"deceasedBoolean": True}


def _procedure_extensions(proc: Procedure, element: str) -> list[Json]:
    """Return a procedure's extensions: kind, status, approach, segments, duration, flags..."""
    extension: list[Json] = [ext("procedure-kind", valueCode=proc.kind)]
    if proc.status == "planned":
        extension.append(ext("procedure-status", valueCode="planned"))
    if proc.approach is not None:
        extension.append(ext("surgical-approach", valueCode=proc.approach))
    extension += segment_exts(proc.segments_resected)
    extension += segment_exts(proc.target_segments, "target-segments")
    if proc.duration is not None:
        minutes = quantity(proc.duration, "duration", f"{element}.duration")
        extension.append(ext("operative-duration", valueDuration=minutes))
    for key, name in PROCEDURE_FLAGS:
        flag = getattr(proc, key)
        if flag is not None:
            extension.append(ext(name, valueBoolean=flag))
    if proc.discharge is not None:
        extension.append(discharge_ext(proc.discharge))
    return extension


def _put_procedure_time(resource: Json, proc: Procedure) -> None:
    """Put when a procedure happens: ``planned-time`` if planned, else ``performedDateTime``."""
    if proc.status != "planned":
        put_when(resource, "performedDateTime", proc.when)
    elif proc.when is not None:
        resource["extension"].append(time_ext("planned-time", proc.when))


def _value(kind: str, value: Any, element: str) -> Json:
    if kind.startswith("reported:"):
        return {"valueQuantity": quantity(value, kind.split(":", 1)[1], element)}
    if kind == "integer":
        return {"valueInteger": value}
    if kind == "percent":
        return {"valueQuantity": {"value": value, "unit": "%", "system": codes.UCUM, "code": "%"}}
    if kind == "boolean":
        return {"valueBoolean": value}
    if kind == "choice":
        return {"valueCodeableConcept": concept(str(value))}
    if kind == "string":
        return {"valueString": text(value, element)}
    raise AssertionError(kind)


def case_resources(case: Case, patient_ref: str | None = None) -> list[tuple[str, Json]]:
    """``(fullUrl, resource JSON)`` for every element of ``case``, in a stable order."""
    w = _Writer(case, patient_ref)
    w.write_patient()
    w.write_primary()
    w.write_metastases()
    w.write_simple()
    for i, im in enumerate(case.imaging):
        w.write_imaging(i, im)
    for i, bx in enumerate(case.biopsies):
        w.write_biopsy(i, bx)
    for i, proc in enumerate(case.procedures):
        w.write_procedure(i, proc)
    for i, line in enumerate(case.systemic_therapy):
        w.write_therapy(i, line)
    for i, event in enumerate(case.follow_up):
        w.write_follow_up(i, event)
    w.write_stage()
    return w.entries
