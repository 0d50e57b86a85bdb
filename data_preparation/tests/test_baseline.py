"""statistics.json and constraints.json, field by field against the documented Model Monitor formats:
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html and
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html."""

from __future__ import annotations

import csv
import json
import math

import pytest

from data_preparation import contract
from data_preparation.tests.conftest import FEATURES

NUMBER = (int, float)


def is_number(value) -> bool:
    return isinstance(value, NUMBER) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def statistics(one_file) -> dict:
    return json.loads((one_file.paths.baseline_output / contract.STATISTICS_FILE).read_text())


@pytest.fixture(scope="module")
def constraints(one_file) -> dict:
    return json.loads((one_file.paths.baseline_output / contract.CONSTRAINTS_FILE).read_text())


@pytest.fixture(scope="module")
def train_rows(one_file) -> list[dict]:
    return [row for path in sorted(one_file.folder("train").iterdir()) for row in csv.DictReader(path.open())]


def test_statistics_has_the_documented_structure(statistics):
    assert statistics.keys() == {"version", "dataset", "features"}
    assert statistics["version"] == 0
    assert statistics["dataset"].keys() == {"item_count"} and is_number(statistics["dataset"]["item_count"])
    assert [feature["name"] for feature in statistics["features"]] == list(FEATURES)
    for feature in statistics["features"]:
        assert feature.keys() == {"name", "inferred_type", "numerical_statistics"}
        assert feature["inferred_type"] in ("Fractional", "Integral")
        numbers = feature["numerical_statistics"]
        assert numbers.keys() == {"common", "mean", "sum", "std_dev", "min", "max", "distribution"}
        assert numbers["common"].keys() == {"num_present", "num_missing"}
        assert all(is_number(numbers["common"][key]) for key in ("num_present", "num_missing"))
        assert all(is_number(numbers[key]) for key in ("mean", "sum", "std_dev", "min", "max"))
        kll = numbers["distribution"]["kll"]
        assert numbers["distribution"].keys() == {"kll"} and kll.keys() == {"buckets", "sketch"}
        # "By default, the distribution is materialized in 10 buckets."
        assert len(kll["buckets"]) == 10
        for bucket in kll["buckets"]:
            assert bucket.keys() == {"lower_bound", "upper_bound", "count"}
            assert all(is_number(value) for value in bucket.values())
        assert kll["sketch"].keys() == {"parameters", "data"}
        assert kll["sketch"]["parameters"].keys() == {"c", "k"}
        assert all(is_number(value) for value in kll["sketch"]["parameters"].values())
        assert isinstance(kll["sketch"]["data"], list) and kll["sketch"]["data"]
        assert all(isinstance(level, list) and all(is_number(v) for v in level) for level in kll["sketch"]["data"])


def test_statistics_describe_the_training_features(statistics, train_rows):
    assert statistics["dataset"]["item_count"] == len(train_rows)
    by_name = {feature["name"]: feature for feature in statistics["features"]}
    assert by_name["age"]["inferred_type"] == "Integral" and by_name["income"]["inferred_type"] == "Fractional"
    for name in FEATURES:
        values = [float(row[name]) for row in train_rows if row[name] != ""]
        numbers = by_name[name]["numerical_statistics"]
        assert numbers["common"] == {"num_present": len(values), "num_missing": len(train_rows) - len(values)}
        assert numbers["min"] == min(values) and numbers["max"] == max(values)
        assert numbers["sum"] == pytest.approx(sum(values))
        assert numbers["mean"] == pytest.approx(sum(values) / len(values))
        buckets = numbers["distribution"]["kll"]["buckets"]
        assert sum(bucket["count"] for bucket in buckets) == len(values)
        assert buckets[0]["lower_bound"] == min(values) and buckets[-1]["upper_bound"] == max(values)
        levels = numbers["distribution"]["kll"]["sketch"]["data"]
        assert levels[-1] == sorted(levels[-1]) and min(values) <= levels[-1][0] <= levels[-1][-1] <= max(values)


def test_constraints_have_the_documented_structure(constraints, statistics):
    assert constraints.keys() == {"version", "features", "monitoring_config"}
    assert constraints["version"] == 0
    for feature, stats in zip(constraints["features"], statistics["features"], strict=True):
        assert feature.keys() == {"name", "inferred_type", "completeness", "num_constraints"}
        assert feature["name"] == stats["name"]
        assert feature["inferred_type"] in ("Integral", "Fractional", "String", "Unknown")
        assert 0 <= feature["completeness"] <= 1
        assert feature["num_constraints"].keys() == {"is_non_negative"}
        assert feature["num_constraints"]["is_non_negative"] is (stats["numerical_statistics"]["min"] >= 0)
    config = constraints["monitoring_config"]
    assert config.keys() == {
        "evaluate_constraints",
        "emit_metrics",
        "datatype_check_threshold",
        "domain_content_threshold",
        "distribution_constraints",
    }
    assert config["evaluate_constraints"] in ("Enabled", "Disabled")
    assert config["emit_metrics"] in ("Enabled", "Disabled")
    assert is_number(config["datatype_check_threshold"]) and is_number(config["domain_content_threshold"])
    distribution = config["distribution_constraints"]
    assert distribution["perform_comparison"] in ("Enabled", "Disabled")
    assert is_number(distribution["comparison_threshold"])
    assert distribution["comparison_method"] in ("Simple", "Robust")
    assert is_number(distribution["categorical_comparison_threshold"])
    assert distribution["categorical_drift_method"] in ("LInfinity", "ChiSquared")


def test_the_score_feature_with_missing_values_is_not_complete(constraints, statistics):
    score = next(feature for feature in constraints["features"] if feature["name"] == "score")
    common = next(f for f in statistics["features"] if f["name"] == "score")["numerical_statistics"]["common"]
    assert score["completeness"] == common["num_present"] / statistics["dataset"]["item_count"] < 1
