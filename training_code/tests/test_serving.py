"""The ``serve`` command, run as SageMaker runs it: the real server process on a loopback port."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from container_harness import (
    RunningServer,
    classification_table,
    container_command,
    free_port,
    http_request,
    running_server,
    subprocess_environment,
)
from tabular_xgboost.model_artifacts import ModelArtifacts, ModelMetadata
from tabular_xgboost.serving.app import Predictor

FEATURES = ("x0", "x1", "x2", "x3", "x4", "x5")
GOOD_CSV = b"0.5,-1.2,0.3,1.0,0.0,2.5"
WORKERS = 2


@pytest.fixture(scope="module")
def server(trained_classifier, tmp_path_factory) -> RunningServer:
    log_path = tmp_path_factory.mktemp("serving") / "server.log"
    with running_server(
        trained_classifier.root,
        log_path,
        SAGEMAKER_MODEL_SERVER_WORKERS=str(WORKERS),
        SAGEMAKER_MAX_PAYLOAD_IN_MB="1",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def one_worker_server(trained_classifier, tmp_path_factory) -> RunningServer:
    log_path = tmp_path_factory.mktemp("serving") / "server.log"
    # As batch transform with MaxPayloadInMB=0 runs it: bodies of any size, chunked.
    with running_server(
        trained_classifier.root, log_path, SAGEMAKER_MODEL_SERVER_WORKERS="1", SAGEMAKER_MAX_PAYLOAD_IN_MB="0"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def booster(trained_classifier) -> xgb.Booster:
    return xgb.Booster(model_file=trained_classifier.model_dir / "xgboost-model.ubj")


def rows_as_csv(rows: np.ndarray) -> bytes:
    return "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in rows).encode()


def predictions_from_csv(body: bytes) -> np.ndarray:
    return np.array(body.decode().split("\n"), dtype=np.float32)


def test_the_configured_number_of_workers_each_load_the_model(server):
    assert server.request("GET", "/ping").status == 200
    deadline = time.monotonic() + 30
    while server.log.count("loaded the model and is serving") < WORKERS:
        assert time.monotonic() < deadline, server.log
        time.sleep(0.1)
    assert server.log.count("Booting worker") == WORKERS


def test_a_model_that_cannot_be_loaded_never_answers_ping_and_stops_the_server(trained_classifier, tmp_path):
    broken = tmp_path / "opt-ml"
    shutil.copytree(trained_classifier.model_dir, broken / "model")
    (broken / "model" / "xgboost-model.ubj").write_bytes(b"not a model")
    port = free_port()
    process = subprocess.Popen(
        container_command("serve"),
        env=subprocess_environment(
            OPT_ML_ROOT=str(broken), SAGEMAKER_BIND_TO_PORT=str(port), SERVING_BIND_ADDRESS="127.0.0.1"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pings = []
    while process.poll() is None and len(pings) < 600:
        with contextlib.suppress(OSError):
            pings.append(http_request(port, "GET", "/ping").status)
        time.sleep(0.05)
    log, _ = process.communicate(timeout=30)

    assert process.returncode != 0
    assert 200 not in pings
    assert "Cannot load the model" in log


def test_csv_records_get_the_predictions_of_the_model_itself(server, booster):
    rows = classification_table(20, seed=7).features("label")

    response = server.request("POST", "/invocations", rows_as_csv(rows), Content_Type="text/csv")

    assert response.status == 200
    assert response.headers["content-type"] == "text/csv"
    np.testing.assert_array_equal(predictions_from_csv(response.body), booster.inplace_predict(rows))


def test_a_batch_transform_mini_batch_gets_one_line_per_record_in_order(server, booster):
    # 5000 records with missing values (empty fields), as batch transform sends a split file.
    rows = classification_table(5000, seed=8).features("label")
    body = rows_as_csv(rows) + b"\n"
    assert len(body) > 256 * 1024, "large enough to be predicted off the event loop"

    response = server.request("POST", "/invocations", body, Content_Type="text/csv", Accept="text/csv")

    assert response.status == 200
    predictions = predictions_from_csv(response.body)
    assert len(predictions) == 5000
    np.testing.assert_array_equal(predictions, booster.inplace_predict(rows))


JSON_FORMS = {
    "one record": json.dumps([0.5, -1.2, 0.3, 1.0, None, 2.5]),
    "list of records": json.dumps([[0.5, -1.2, 0.3, 1.0, None, 2.5], [1, 2, 3, 4, 5, 6]]),
    "instances": json.dumps({"instances": [[0.5, -1.2, 0.3, 1.0, None, 2.5], [1, 2, 3, 4, 5, 6]]}),
    "named features": json.dumps(
        {
            "instances": [
                {"x5": 2.5, "x4": None, "x3": 1.0, "x2": 0.3, "x1": -1.2, "x0": 0.5},
                dict(zip(FEATURES, [1, 2, 3, 4, 5, 6], strict=False)),
            ]
        }
    ),
    # Batch transform with SplitType=Line and BatchStrategy=MultiRecord joins a JSON Lines file's records so.
    "JSON Lines": '[0.5, -1.2, 0.3, 1.0, null, 2.5]\n{"x0": 1, "x1": 2, "x2": 3, "x3": 4, "x4": 5, "x5": 6}\n',
}


@pytest.mark.parametrize("form", JSON_FORMS)
def test_json_records_in_every_accepted_form(server, booster, form):
    expected = booster.inplace_predict(
        np.array([[0.5, -1.2, 0.3, 1.0, np.nan, 2.5], [1, 2, 3, 4, 5, 6]], dtype=np.float32)
    )

    response = server.request("POST", "/invocations", JSON_FORMS[form].encode(), Content_Type="application/json")

    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    predictions = response.json()["predictions"]
    np.testing.assert_array_equal(np.array(predictions, dtype=np.float32), expected[: len(predictions)])


@pytest.mark.parametrize(
    ("content_type", "accept", "answer_type"),
    [
        ("text/csv", None, "text/csv"),
        ("application/json", None, "application/json"),
        ("text/csv", "application/json", "application/json"),
        ("text/csv; charset=utf-8", "*/*", "text/csv"),
        ("application/json", "text/csv;q=0.9, application/json;q=0.5", "text/csv"),
        ("application/json", "text/*", "text/csv"),
    ],
)
def test_the_answer_comes_in_the_type_the_accept_header_prefers(server, content_type, accept, answer_type):
    body = GOOD_CSV if content_type.startswith("text/csv") else json.dumps([[0.5, -1.2, 0.3, 1.0, 0.0, 2.5]]).encode()
    headers = {"Content_Type": content_type} | ({"Accept": accept} if accept else {})

    response = server.request("POST", "/invocations", body, **headers)

    assert response.status == 200
    assert response.headers["content-type"] == answer_type


def test_batch_transform_learns_the_batching_and_payload_limit(server):
    response = server.request("GET", "/execution-parameters")

    assert response.status == 200
    assert response.json() == {"MaxConcurrentTransforms": WORKERS, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 1}


def _oversized_chunks():
    for _ in range(18):
        yield b"1,2,3,4,5,6\n" * 6000  # 18 x 72 kB: over the 1 MiB limit, without a Content-Length


BAD_REQUESTS = {
    "unsupported content type": (
        "POST",
        "/invocations",
        GOOD_CSV,
        {"Content-Type": "text/plain"},
        415,
        "Content-Type 'text/plain' is not supported; send text/csv or application/json",
    ),
    "missing content type": ("POST", "/invocations", GOOD_CSV, {}, 415, "The Content-Type header is missing"),
    "unsupported charset": (
        "POST",
        "/invocations",
        GOOD_CSV,
        {"Content-Type": "text/csv; charset=utf-16"},
        415,
        "charset 'utf-16' is not supported",
    ),
    "declared body over the limit": (
        "POST",
        "/invocations",
        GOOD_CSV * 200_000,
        {"Content-Type": "text/csv"},
        413,
        "exceeds 1 MiB",
    ),
    "streamed body over the limit": (
        "POST",
        "/invocations",
        _oversized_chunks,
        {"Content-Type": "text/csv"},
        413,
        "exceeds 1 MiB",
    ),
    "empty body": ("POST", "/invocations", b"", {"Content-Type": "text/csv"}, 400, "The request body is empty"),
    "too few CSV values": (
        "POST",
        "/invocations",
        b"0.5,1.2,3",
        {"Content-Type": "text/csv"},
        400,
        "Record 1 has 3 values; the model expects 6 features, in this order: x0, x1, x2, x3, x4, x5",
    ),
    "a later CSV record too long": (
        "POST",
        "/invocations",
        GOOD_CSV + b"\n" + GOOD_CSV + b",7",
        {"Content-Type": "text/csv"},
        400,
        "Every CSV record needs 6 values",
    ),
    "non-numeric CSV value": (
        "POST",
        "/invocations",
        b"0.5,abc,0.3,1.0,0.0,2.5",
        {"Content-Type": "text/csv"},
        400,
        "CSV values must be numbers",
    ),
    "CSV header row": (
        "POST",
        "/invocations",
        b"x0,x1,x2,x3,x4,x5\n" + GOOD_CSV,
        {"Content-Type": "text/csv"},
        400,
        "invalid value 'x0'",
    ),
    "malformed JSON": (
        "POST",
        "/invocations",
        b'{"instances": [[1, 2,',
        {"Content-Type": "application/json"},
        400,
        "not valid JSON",
    ),
    "JSON object without instances": (
        "POST",
        "/invocations",
        b'{"rows": [[1, 2, 3, 4, 5, 6]]}',
        {"Content-Type": "application/json"},
        400,
        'needs an "instances" key',
    ),
    "wrong number of JSON values": (
        "POST",
        "/invocations",
        b"[[1, 2, 3, 4, 5, 6], [1, 2]]",
        {"Content-Type": "application/json"},
        400,
        "Record 2 has 2 values; the model expects 6 features",
    ),
    "string JSON value": (
        "POST",
        "/invocations",
        b'[[1, 2, "three", 4, 5, 6]]',
        {"Content-Type": "application/json"},
        400,
        "Record 1, feature 'x2': 'three' is not a number",
    ),
    "unknown JSON feature name": (
        "POST",
        "/invocations",
        b'{"instances": [{"x0": 1, "x1": 2, "x2": 3, "x3": 4, "x4": 5, "age": 6}]}',
        {"Content-Type": "application/json"},
        400,
        "names unknown features ['age'] and lacks ['x5']",
    ),
    "a JSON Lines line not JSON": (
        "POST",
        "/invocations",
        b"[1, 2, 3, 4, 5, 6]\n[1, 2,",
        {"Content-Type": "application/json"},
        400,
        "neither one JSON document nor JSON Lines: line 2",
    ),
    "empty JSON list": (
        "POST",
        "/invocations",
        b"[]",
        {"Content-Type": "application/json"},
        400,
        "non-empty JSON list",
    ),
    "unsupported Accept": (
        "POST",
        "/invocations",
        GOOD_CSV,
        {"Content-Type": "text/csv", "Accept": "application/x-protobuf"},
        406,
        "this endpoint answers text/csv or application/json",
    ),
    "wrong method": ("GET", "/invocations", None, {}, 405, "GET is not allowed on /invocations; use POST"),
    "unknown path": ("POST", "/predict", GOOD_CSV, {"Content-Type": "text/csv"}, 404, "No such path '/predict'"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_gets_a_json_error_and_the_server_keeps_serving(server, case):
    method, path, body, headers, status, message = BAD_REQUESTS[case]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    streamed = callable(body)
    connection.request(method, path, body=body() if streamed else body, headers=headers, encode_chunked=streamed)
    response = connection.getresponse()
    error = json.loads(response.read())

    assert response.status == status
    assert response.getheader("content-type") == "application/json"
    assert message in error["error"]
    # The same connection, and the same server, go on answering good requests.
    connection.request("POST", "/invocations", body=GOOD_CSV, headers={"Content-Type": "text/csv"})
    assert connection.getresponse().status == 200
    connection.close()


def test_with_no_payload_limit_a_chunked_body_of_any_size_is_predicted(one_worker_server, booster):
    rows = classification_table(1000, seed=10).features("label")
    chunk = rows_as_csv(rows) + b"\n"
    repeats = 7 * 2**20 // len(chunk) + 1  # over the default limit of 6 MiB

    connection = http.client.HTTPConnection("127.0.0.1", one_worker_server.port, timeout=60)
    connection.request(
        "POST",
        "/invocations",
        body=itertools.repeat(chunk, repeats),
        headers={"Content-Type": "text/csv"},
        encode_chunked=True,
    )
    response = connection.getresponse()

    assert response.status == 200
    predictions = predictions_from_csv(response.read())
    connection.close()
    np.testing.assert_array_equal(predictions, np.tile(booster.inplace_predict(rows), repeats))


def _worker_peak_memory_kib(server: RunningServer) -> int:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text() if len(children) == 1 else ""
    return sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))


def _send_head(port: int, head_lines: Iterator[bytes]) -> tuple[bytes, int]:
    """Sends a GET /ping head line by line until the server answers or closes; returns its answer and the bytes
    sent by then."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for line in itertools.chain([b"GET /ping HTTP/1.1\r\nHost: model\r\n"], head_lines, [b"\r\n"]):
                client.sendall(line)
                sent += len(line)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := client.recv(65536):
                answer += chunk
    return answer, sent


OVERSIZED_HEADS = {
    "a 100 KB header": lambda: iter([b"X-Big: " + b"a" * 100_000 + b"\r\n"]),
    "5000 headers": lambda: (b"X-Header-%d: v\r\n" % number for number in range(5000)),
    # Streamed: the server must answer long before the header ends, holding no more than the limit.
    "a 100 MB header": lambda: itertools.chain([b"X-Huge: "], itertools.repeat(b"a" * 65536, 1600)),
}


@pytest.mark.parametrize("case", OVERSIZED_HEADS)
def test_an_oversized_request_head_gets_431_without_the_worker_holding_it(one_worker_server, booster, case):
    # A record that is not plain numbers needs Arrow's CSV reader, which the worker otherwise imports in the
    # background once it serves (about 23 MiB): loaded now, it does not count as memory the head took.
    quoted_record = b",".join([b'"a"'] * booster.num_features())
    answer = one_worker_server.request("POST", "/invocations", quoted_record, Content_Type="text/csv")
    assert answer.status == 400 and b"CSV conversion error" in answer.body, answer.body  # Arrow's words
    peak_before = _worker_peak_memory_kib(one_worker_server)

    answer, sent = _send_head(one_worker_server.port, OVERSIZED_HEADS[case]())

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"Send at most 100 headers of 32768 bytes in all" in answer
    assert sent < 16 * 2**20, "the server closes the connection instead of reading the whole head"
    assert _worker_peak_memory_kib(one_worker_server) - peak_before < 8 * 1024
    assert one_worker_server.request("GET", "/ping").status == 200


def test_a_request_head_within_the_limits_is_served(one_worker_server):
    headers = {f"X-Header-{number}": "v" * 200 for number in range(90)}

    assert one_worker_server.request("GET", "/ping", **headers).status == 200


def test_keep_alive_connections_serve_many_requests_with_bodies_larger_than_the_head_limit(server, booster):
    rows = classification_table(400, seed=11).features("label")
    body = rows_as_csv(rows)
    assert len(body) > 32 * 1024  # a read holding a whole request is more than any head may be
    expected = booster.inplace_predict(rows)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for _ in range(50):
        connection.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
        response = connection.getresponse()
        assert response.status == 200, response.read()[:200]
        np.testing.assert_array_equal(predictions_from_csv(response.read()), expected)
    connection.close()


def _exchange(port: int, data: bytes, pause_after: int | None = None) -> bytes:
    """Sends ``data`` (byte by byte up to ``pause_after``), then reads until the server has answered twice or
    closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        if pause_after is None:
            client.sendall(data)
        else:
            for offset in range(pause_after):
                client.sendall(data[offset : offset + 1])
            client.sendall(data[pause_after:])
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


def test_pipelined_requests_are_answered_in_order_on_one_connection(server):
    ping = b"GET /ping HTTP/1.1\r\nHost: model\r\n\r\n"
    invoke = (
        b"POST /invocations HTTP/1.1\r\nHost: model\r\nContent-Type: text/csv\r\n"
        b"Content-Length: " + str(len(GOOD_CSV)).encode() + b"\r\n\r\n" + GOOD_CSV
    )
    missing = b"GET /missing HTTP/1.1\r\nHost: model\r\nConnection: close\r\n\r\n"

    answer = _exchange(server.port, ping + invoke + missing)

    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert statuses == [b"200", b"200", b"404"], answer


def test_a_head_arriving_byte_by_byte_is_served(server):
    request = b"GET /ping HTTP/1.1\r\nHost: model\r\nX-Attributes: " + b"a" * 1000 + b"\r\nConnection: close\r\n\r\n"

    assert _exchange(server.port, request, pause_after=len(request) - 1).startswith(b"HTTP/1.1 200 OK\r\n")


def test_expect_100_continue_gets_continue_before_the_body(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: model\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\n"
            b"Content-Length: " + str(len(GOOD_CSV)).encode() + b"\r\n\r\n"
        )
        assert client.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.sendall(GOOD_CSV)
        response = http.client.HTTPResponse(client)
        response.begin()
        assert response.status == 200
        assert len(predictions_from_csv(response.read())) == 1


def test_bad_requests_neither_crash_nor_restart_workers(server):
    assert server.log.count("Booting worker") == WORKERS
    assert "Traceback" not in server.log


def test_sigterm_lets_the_request_in_flight_finish_and_exits_zero(trained_classifier, booster, tmp_path):
    rows = classification_table(200, seed=9).features("label")
    body = rows_as_csv(rows)
    with running_server(trained_classifier.root, tmp_path / "server.log", SAGEMAKER_MODEL_SERVER_WORKERS="1") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
            head = (
                "POST /invocations HTTP/1.1\r\nHost: model\r\nContent-Type: "
                f"text/csv\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            client.sendall(head.encode() + body[: len(body) // 2])
            time.sleep(0.3)  # the worker has the request's headers and half its body
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
            client.sendall(body[len(body) // 2 :])
            response = http.client.HTTPResponse(client)
            response.begin()

            assert response.status == 200
            np.testing.assert_array_equal(predictions_from_csv(response.read()), booster.inplace_predict(rows))
        assert server.process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({}, "lacks xgboost-model.ubj, model-metadata.json"),
        (
            {"SAGEMAKER_MODEL_SERVER_WORKERS": "zero", "SAGEMAKER_BIND_TO_PORT": "70000"},
            (
                "SAGEMAKER_BIND_TO_PORT='70000' is invalid: must be an integer from 1 to 65535; "
                "SAGEMAKER_MODEL_SERVER_WORKERS='zero' is invalid"
            ),
        ),
    ],
)
def test_serve_refuses_to_start_with_a_clear_reason(tmp_path, environ, reason):
    result = subprocess.run(
        container_command("serve"),
        env=subprocess_environment(OPT_ML_ROOT=str(tmp_path), **environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert reason in result.stdout


@pytest.mark.parametrize(
    "objective", ["binary:logistic", "reg:squarederror", "multi:softprob"], ids=["binary", "regression", "multiclass"]
)
def test_the_workers_predictor_predicts_as_xgboost_does(objective):
    rng = np.random.default_rng(3)
    features = rng.normal(size=(300, 6)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.float32)
    params = {"objective": objective, "max_depth": 4, "nthread": 1}
    if objective != "binary:logistic":
        labels += features[:, 1] > 1  # three values
    if objective == "multi:softprob":
        params["num_class"] = 3
    booster = xgb.train(params, xgb.DMatrix(features, labels), num_boost_round=20)
    artifacts = ModelArtifacts(booster.save_raw("ubj"), ModelMetadata("classification", FEATURES))
    predictor = Predictor(artifacts, threads=1)
    with_missing = features.copy()
    with_missing[::7, 2] = np.nan

    for rows in (features[:1], features, with_missing, features[:, ::-1][:, ::-1], features.astype(np.float64)):
        np.testing.assert_array_equal(predictor.predict(rows), booster.inplace_predict(rows))


def test_threads_predicting_at_once_each_get_the_predictions_of_their_own_rows():
    # The worker predicts small bodies on its event loop and large ones in a thread, at the same time.
    rng = np.random.default_rng(5)
    features = rng.normal(size=(2000, len(FEATURES))).astype(np.float32)
    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": 6, "nthread": 1},
        xgb.DMatrix(features, features[:, 0] * features[:, 1]),
        num_boost_round=50,
    )
    predictor = Predictor(ModelArtifacts(booster.save_raw("ubj"), ModelMetadata("regression", FEATURES)), threads=1)
    batches = [features[start : start + size] for start, size in ((0, 1), (1, 1999), (7, 300), (400, 50))]
    expected = [booster.inplace_predict(batch) for batch in batches]

    def predict_repeatedly(index: int) -> bool:
        return all(np.array_equal(predictor.predict(batches[index]), expected[index]) for _ in range(100))

    with ThreadPoolExecutor(max_workers=len(batches)) as threads:
        assert all(threads.map(predict_repeatedly, range(len(batches))))
