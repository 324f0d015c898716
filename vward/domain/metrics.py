"""The metrics devices may send: unit, value kind, plausible range and LOINC code (design.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Metric(enum.StrEnum):
    HEART_RATE = "heart_rate"
    RESPIRATORY_RATE = "respiratory_rate"
    SPO2 = "spo2"
    TEMPERATURE = "temperature"
    SYSTOLIC_BP = "systolic_bp"
    DIASTOLIC_BP = "diastolic_bp"
    WEIGHT = "weight"
    GLUCOSE = "glucose"
    ON_OXYGEN = "on_oxygen"
    CONSCIOUSNESS = "consciousness"
    PATIENT_CONCERN = "patient_concern"


class ValueKind(enum.StrEnum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    ACVPU = "acvpu"


ACVPU_LEVELS: tuple[str, ...] = ("A", "C", "V", "P", "U")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """Wire unit (UCUM), value kind and the range a living patient's value can plausibly take."""

    metric: Metric
    unit: str
    kind: ValueKind
    loinc: str
    display: str
    low: float | None = None
    high: float | None = None

    @property
    def shown_unit(self) -> str:
        """The unit as people write it ("°C", "mmHg"): UCUM codes stay on the wire and in FHIR."""
        return SHOWN_UNITS.get(self.unit, self.unit)


SHOWN_UNITS = {"Cel": "°C", "mm[Hg]": "mmHg", "1": ""}

# Plausibility ranges are deliberately wide: they reject sensor garbage, not sick patients.
METRIC_SPECS: dict[Metric, MetricSpec] = {
    s.metric: s
    for s in (
        MetricSpec(Metric.HEART_RATE, "/min", ValueKind.NUMBER, "8867-4", "Heart rate", 20, 300),
        MetricSpec(Metric.RESPIRATORY_RATE, "/min", ValueKind.NUMBER, "9279-1", "Respiratory rate", 2, 80),
        MetricSpec(Metric.SPO2, "%", ValueKind.NUMBER, "59408-5", "Oxygen saturation", 50, 100),
        MetricSpec(Metric.TEMPERATURE, "Cel", ValueKind.NUMBER, "8310-5", "Body temperature", 25, 45),
        MetricSpec(Metric.SYSTOLIC_BP, "mm[Hg]", ValueKind.NUMBER, "8480-6", "Systolic blood pressure", 40, 300),
        MetricSpec(Metric.DIASTOLIC_BP, "mm[Hg]", ValueKind.NUMBER, "8462-4", "Diastolic blood pressure", 20, 200),
        MetricSpec(Metric.WEIGHT, "kg", ValueKind.NUMBER, "29463-7", "Body weight", 20, 400),
        MetricSpec(Metric.GLUCOSE, "mmol/L", ValueKind.NUMBER, "14743-9", "Glucose", 0.5, 50),
        MetricSpec(Metric.ON_OXYGEN, "1", ValueKind.BOOLEAN, "3151-8", "Supplemental oxygen"),
        MetricSpec(Metric.CONSCIOUSNESS, "1", ValueKind.ACVPU, "", "Level of consciousness (ACVPU)"),
        MetricSpec(Metric.PATIENT_CONCERN, "1", ValueKind.BOOLEAN, "", "Patient feels unwell"),
    )
}
