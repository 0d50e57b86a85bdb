"""Request bodies become feature matrices the same way on the fast path and the full CSV parser."""

from __future__ import annotations

import numpy as np
import pytest
from tabular_xgboost.serving.codecs import CSV, JSON, FeatureDecoder, RequestError, encode_predictions

DECODER = FeatureDecoder(("a", "b", "c"))


def _with_plus_signs(body: bytes) -> bytes:
    """The same numbers, spelled so that only the full CSV parser accepts them (JSON has no '+')."""
    return b"\n".join(
        b",".join(field if field.strip().startswith(b"-") else b"+" + field.strip() for field in line.split(b","))
        for line in body.split(b"\n")
        if line.strip()
    )


@pytest.mark.parametrize(
    "body",
    [
        b"1,2,3",
        b"0.1,-2.5e-3,1E5\n4,5,6\n",
        b"0.30000000000000004,1e-45,3.4028235e38",
        b"16777217,9007199254740993,123456789012345678901234567890",
        b" 1 , 2 ,3\r\n4,5, 6\r\n",
    ],
)
def test_plain_number_bodies_decode_exactly_as_the_full_csv_parser_does(body):
    fast, full = DECODER.decode(CSV, body), DECODER.decode(CSV, _with_plus_signs(body))

    assert fast.dtype == full.dtype == np.float32
    np.testing.assert_array_equal(fast, full)


def test_empty_fields_are_missing_values():
    np.testing.assert_array_equal(
        DECODER.decode(CSV, b"1,,3\n,5,"), np.array([[1, np.nan, 3], [np.nan, 5, np.nan]], dtype=np.float32)
    )


@pytest.mark.parametrize(
    "body", [b"1,true,3", b"1,false,3", b"1,null,3", b'1,"2",3', b"1,[2],3", b"1,{},3", b"1,2,3\n4,5", b"1,NaNx,3"]
)
def test_what_is_not_a_plain_number_record_is_rejected_even_when_json_would_read_it(body):
    with pytest.raises(RequestError) as raised:
        DECODER.decode(CSV, body)

    assert raised.value.status == 400


def test_json_nulls_are_missing_values_and_booleans_count_as_zero_and_one():
    np.testing.assert_array_equal(
        DECODER.decode(JSON, b"[[1, null, true], [false, 2.5, 3]]"),
        np.array([[1, np.nan, 1], [0, 2.5, 3]], dtype=np.float32),
    )


def test_predictions_are_written_with_the_digits_that_read_back_the_same_float32():
    predictions = np.array([0.1, 1 / 3, 2.5e-8], dtype=np.float32)

    csv_lines = encode_predictions(CSV, predictions).split(b"\n")

    assert csv_lines == [b"0.1", b"0.33333334", b"2.5e-8"]
    np.testing.assert_array_equal(np.array(csv_lines, dtype=np.float32), predictions)
    assert encode_predictions(JSON, predictions) == b'{"predictions":[0.1,0.33333334,2.5e-8]}'
