"""Signposts: what a survey could measure (the metric table's ``observable``)."""

from __future__ import annotations

import pytest

from sim.core.metric_table import (
    METRIC_BY_NAME,
    METRICS,
    OBSERVABLE_METRICS,
    SHARE_FAMILIES,
    TOTAL_FAMILIES,
    MetricSpec,
    stack_metric,
)
from sim.core.signal_table import SIGNALS

# --- observability in the metric table ----------------------------------------------------------

def test_every_metric_says_whether_a_survey_could_measure_it():
    with pytest.raises(TypeError, match="observable"):
        MetricSpec("x", "X", "share", "workload", "a metric that forgot the flag")
    assert all(isinstance(spec.observable, bool) for spec in METRICS)
    assert tuple(spec.name for spec in METRICS if spec.observable) == OBSERVABLE_METRICS
    assert not any(METRIC_BY_NAME[spec.metric].observable for spec in SIGNALS)
    families = SHARE_FAMILIES + TOTAL_FAMILIES
    by_deployment = {spec.name for spec in METRICS if spec.family in families}
    stacks = {stack_metric(stack).name for stack in ("closed", "open", "hybrid")}
    assert by_deployment | stacks | {"plans_to_expand_open"} <= set(OBSERVABLE_METRICS)
    constructs = {"switches", "vendor_events", "workloads", "enterprises_using_ai",
                  "break_even_mtok_per_month_routine", "break_even_mtok_per_month_frontier"}
    assert constructs.isdisjoint(OBSERVABLE_METRICS)


def test_one_survey_question_per_family_and_one_for_the_stacks():
    questions = {spec.question for spec in METRICS if spec.observable}
    assert {"workload_share", "volume_share", "spend_share", "stack_share",
            "plans_to_expand_open"} <= questions
    assert METRIC_BY_NAME["workload_share_closed"].question == \
        METRIC_BY_NAME["workload_share_open_any"].question
