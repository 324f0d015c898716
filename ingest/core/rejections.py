"""Why a message was refused: every rejection carries a reason code that dead_letter and /metrics share."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Reason(enum.StrEnum):
    """Reason codes stored in dead_letter.reason and used as the /metrics label (documented in docs)."""

    BAD_TOPIC = "bad_topic"  # not one of our topics, or a device id with wildcards or illegal characters
    TOO_LARGE = "too_large"  # payload over 64 KiB
    NOT_UTF8 = "not_utf8"
    BAD_JSON = "bad_json"
    TOO_DEEP = "too_deep"  # nesting deeper than the JSON parser accepts
    BAD_SHAPE = "bad_shape"  # valid JSON, but not the contract's object (missing or extra-typed fields)
    BAD_MSG_ID = "bad_msg_id"
    BAD_TIMESTAMP = "bad_timestamp"
    TOPIC_MISMATCH = "topic_mismatch"  # the payload names another device than the topic
    UNKNOWN_METRIC = "unknown_metric"
    WRONG_UNIT = "wrong_unit"
    BAD_VALUE = "bad_value"  # wrong value type for the metric
    NOT_FINITE = "not_finite"  # NaN or infinity
    IMPLAUSIBLE = "implausible"  # outside the metric's plausible range (METRIC_SPECS)
    DUPLICATE_METRIC = "duplicate_metric"  # the same metric twice at the same time in one message
    UNKNOWN_DEVICE = "unknown_device"
    NOT_BOUND = "not_bound"  # device bound to no patient at measured_at
    BEFORE_ADMISSION = "before_admission"
    AFTER_DISCHARGE = "after_discharge"
    STORAGE_REJECTED = "storage_rejected"  # the database refused this message alone (isolated by bisection)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused message: the reason code and a short detail that never echoes patient values."""

    reason: Reason
    detail: str = ""
