"""Request bodies in, predictions out: the content types ``/invocations`` speaks.

Requests: ``text/csv`` (one record per line, features in training order, no header, an empty
field is a missing value) or ``application/json`` (a list of numbers for one record, a list of
such lists, or ``{"instances": [...]}`` whose records may also be objects keyed by feature name;
``null`` is a missing value; or JSON Lines, one such record per line). Responses: one prediction
per line (``text/csv``) or ``{"predictions": [...]}`` (``application/json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import orjson

if TYPE_CHECKING:
    import pyarrow.csv as pa_csv

CSV = "text/csv"
JSON = "application/json"
MEDIA_TYPES = (CSV, JSON)
_UTF8_CHARSETS = ("utf-8", "utf8", "us-ascii")


# What JSON reads besides numbers, commas and whitespace: strings, the first letters of true, false and null, arrays
# and objects. A body with none of them that orjson accepts holds numbers only; anything else that is not a number
# (other letters, "+1", "1.", an empty field) is a JSON syntax error. Nine scans for one byte each take 10 us of a
# 100-record body (40 KB), deleting the bytes of numbers with bytes.translate 30 us: a sixth of its decoding.
_JSON_BEYOND_NUMBERS = tuple(bytes([byte]) for byte in b'"tfn[]{}:')


def _plain_numbers(body: bytes) -> np.ndarray | None:
    """The fast path for the common body: every field a number, none missing.

    Such a body, with its lines turned into arrays, is also a JSON array of arrays of numbers,
    which orjson parses several times faster than a CSV parser, whose fixed cost per call also
    dominates small requests. Whatever is not plainly that (missing values, letters, quotes, a
    ragged record, a number JSON spells differently such as "+1" or "1.") returns None for the CSV
    parser, so both paths accept and produce the same.
    """
    if any(byte in body for byte in _JSON_BEYOND_NUMBERS):
        return None
    try:
        rows = orjson.loads(b"[[" + body.strip().replace(b"\n", b"],[") + b"]]")
        # Python floats are float64, so this rounds exactly as float64 then float32 would.
        matrix = np.array(rows, dtype=np.float32)
    except (orjson.JSONDecodeError, ValueError):
        return None
    return matrix if matrix.ndim == 2 else None


class RequestError(Exception):
    """A request the server rejects; the message tells the client what to change."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _split_media_type(header: str) -> tuple[str, dict[str, str]]:
    media_type, *parameters = header.split(";")
    parsed = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), parsed


def request_media_type(content_type: str | None) -> str:
    """The supported media type of a request's Content-Type header, or RequestError 415."""
    if not content_type:
        raise RequestError(415, f"The Content-Type header is missing; send {' or '.join(MEDIA_TYPES)}.")
    media_type, parameters = _split_media_type(content_type)
    if media_type not in MEDIA_TYPES:
        raise RequestError(415, f"Content-Type {media_type!r} is not supported; send {' or '.join(MEDIA_TYPES)}.")
    charset = parameters.get("charset", "utf-8").lower()
    if charset not in _UTF8_CHARSETS:
        raise RequestError(415, f"charset {charset!r} is not supported; send UTF-8.")
    return media_type


def response_media_type(accept: str | None, request_type: str) -> str:
    """The media type to answer in, by the Accept header's preferences (q values and wildcards).

    Without an Accept header, or on a tie, the answer uses the request's own media type.
    """
    if not accept:
        return request_type
    quality = dict.fromkeys(MEDIA_TYPES, 0.0)
    for media_range in accept.split(","):
        media_type, parameters = _split_media_type(media_range)
        try:
            weight = float(parameters.get("q", "1"))
        except ValueError:
            weight = 0.0
        for candidate in MEDIA_TYPES:
            if media_type in (candidate, "*/*", candidate.split("/")[0] + "/*"):
                quality[candidate] = max(quality[candidate], weight)
    # A stable sort on descending quality keeps the request's type first among equals.
    ranked = sorted((request_type, *[t for t in MEDIA_TYPES if t != request_type]), key=lambda t: -quality[t])
    if quality[ranked[0]] <= 0:
        raise RequestError(
            406, f"Cannot answer in Accept {accept!r}; this endpoint answers {' or '.join(MEDIA_TYPES)}."
        )
    return ranked[0]


class FeatureDecoder:
    """Turns a request body into a float32 matrix with one column per model feature."""

    def __init__(self, feature_names: tuple[str, ...]) -> None:
        self.feature_names = feature_names
        self._feature_index = {name: index for index, name in enumerate(feature_names)}
        self._csv_options: tuple[pa_csv.ReadOptions, pa_csv.ParseOptions, pa_csv.ConvertOptions] | None = None

    def decode(self, media_type: str, body: bytes) -> np.ndarray:
        if not body.strip():
            raise RequestError(400, "The request body is empty; send at least one record.")
        return self._decode_csv(body) if media_type == CSV else self._decode_json(body)

    def _wrong_width(self, record: int, width: int) -> RequestError:
        return RequestError(
            400,
            f"Record {record} has {width} values; the model expects {len(self.feature_names)} "
            f"features, in this order: {', '.join(self.feature_names)}.",
        )

    def _decode_csv(self, body: bytes) -> np.ndarray:
        # The common mistake, a record with the target column or a missing feature, gets a message
        # of its own; Arrow checks the remaining records.
        first_width = body.lstrip().split(b"\n", 1)[0].count(b",") + 1
        if first_width != len(self.feature_names):
            raise self._wrong_width(1, first_width)
        matrix = _plain_numbers(body)
        if matrix is not None and matrix.shape[1] == len(self.feature_names):
            return matrix
        return self._decode_csv_with_arrow(body)

    def load_csv_parser(self) -> None:
        """Imports Arrow's CSV reader, which bodies other than plain numbers need. The server does it in the
        background once it answers /ping, which Arrow's import would otherwise delay; a body needing it first waits."""
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        columns = [f"feature_{index}" for index in range(len(self.feature_names))]
        self._csv_options = (
            pa_csv.ReadOptions(column_names=columns, use_threads=False),
            # Quoting is off: quoted values are not numbers, and Arrow then says so.
            pa_csv.ParseOptions(quote_char=False),
            # float64 then float32, exactly as the fast path and the training data reader round.
            pa_csv.ConvertOptions(column_types=dict.fromkeys(columns, pa.float64()), null_values=[""]),
        )

    def _decode_csv_with_arrow(self, body: bytes) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        if self._csv_options is None:
            self.load_csv_parser()
        read_options, parse_options, convert_options = self._csv_options
        try:
            table = pa_csv.read_csv(
                pa.py_buffer(body),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except pa.ArrowInvalid as error:
            detail = str(error)
            if "columns" in detail:
                raise RequestError(
                    400,
                    f"Every CSV record needs {len(self.feature_names)} values, one per feature: {detail}",
                ) from error
            raise RequestError(
                400,
                f"CSV values must be numbers (an empty field is a missing value; no header row, no quotes): {detail}",
            ) from error
        return np.column_stack([column.to_numpy() for column in table.columns]).astype(np.float32)

    def _decode_json(self, body: bytes) -> np.ndarray:
        records = _json_records(body)
        rows = [self._json_record(number, record) for number, record in enumerate(records, start=1)]
        try:
            matrix = np.array(rows)
        except ValueError:  # values that are lists of uneven shapes
            return self._json_values(rows)
        # Numbers only (booleans count as 0 and 1) give a numeric matrix; strings, nulls and
        # nested lists give other kinds or shapes, which the slower path sorts out value by value.
        if matrix.ndim == 2 and matrix.dtype.kind in "biuf":
            return matrix.astype(np.float32)
        return self._json_values(rows)

    def _json_record(self, number: int, record: object) -> list:
        if isinstance(record, dict):
            unknown = sorted(set(record) - set(self._feature_index))
            missing = [name for name in self.feature_names if name not in record]
            if unknown or missing:
                raise RequestError(
                    400,
                    f"Record {number} names unknown features {unknown} and lacks {missing}; the "
                    f"model's features are: {', '.join(self.feature_names)}.",
                )
            return [record[name] for name in self.feature_names]
        if not isinstance(record, list):
            raise RequestError(
                400, f"Record {number} is {type(record).__name__}; a record is a list of numbers or an object."
            )
        if len(record) != len(self.feature_names):
            raise self._wrong_width(number, len(record))
        return record

    def _json_values(self, rows: list[list]) -> np.ndarray:
        matrix = np.empty((len(rows), len(self.feature_names)), dtype=np.float32)
        for row_number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if value is None:
                    matrix[row_number - 1, column] = np.nan
                elif isinstance(value, (int, float)):
                    matrix[row_number - 1, column] = float(value)
                else:
                    raise RequestError(
                        400,
                        f"Record {row_number}, feature '{self.feature_names[column]}': {value!r} is "
                        "not a number; values must be numbers, or null for a missing value.",
                    )
        return matrix


def _json_records(body: bytes) -> list:
    """The records of a JSON document, or of JSON Lines: one record per line, which is what batch transform sends
    for a JSON file split by line (SplitType=Line) into mini-batches of several records (MultiRecord)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        lines = [line for line in body.split(b"\n") if line.strip()]
        if len(lines) < 2:
            raise RequestError(400, f"The application/json body is not valid JSON: {error}") from error
        return [_json_line(number, line) for number, line in enumerate(lines, start=1)]
    if isinstance(document, dict):
        if "instances" not in document:
            raise RequestError(400, 'A JSON object body needs an "instances" key holding a list of records.')
        document = document["instances"]
    if not isinstance(document, list) or not document:
        raise RequestError(
            400,
            "Send records as a non-empty JSON list: one record as a list of numbers, or a list "
            "of records (lists of numbers or objects keyed by feature name), or JSON Lines (one record per line).",
        )
    return document if isinstance(document[0], (list, dict)) else [document]


def _json_line(number: int, line: bytes) -> object:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise RequestError(
            400, f"The application/json body is neither one JSON document nor JSON Lines: line {number}: {error}"
        ) from error


def encode_predictions(media_type: str, predictions: np.ndarray) -> bytes:
    """One prediction per record: the probability of class 1 (classification) or the value."""
    # orjson writes each float32 with the fewest digits that read back as the same number.
    as_json = orjson.dumps(predictions, option=orjson.OPT_SERIALIZE_NUMPY)
    if media_type == CSV:
        return as_json[1:-1].replace(b",", b"\n")
    return b'{"predictions":' + as_json + b"}"
