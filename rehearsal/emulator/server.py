"""Serves the extended emulator over TLS on a free loopback port.

TLS, not plain HTTP: the CLI and the SDKs reach AWS over TLS, and the platform's buckets deny
requests that do not (``aws:SecureTransport``). A throwaway self-signed certificate for
``localhost`` is written next to its key; clients trust it through ``AWS_CA_BUNDLE``.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from rehearsal.aws import INVENTORY_PATH
from rehearsal.emulator import (
    cost_explorer,
    fixes,
    inference_component_scaling,
    operations,
    resources,
    training_jobs,
)

HOST = "127.0.0.1"
# Control endpoints by path: operations' and those of the modules that add their own.
CONTROL_HANDLERS = {
    **operations.CONTROL_HANDLERS,
    **cost_explorer.CONTROLS,
    **training_jobs.CONTROLS,
    **inference_component_scaling.CONTROL_HANDLERS,
}


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, valid for one day; returns (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "emulator.crt", directory / "emulator.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class _RequestHandler(MotoRequestHandler):
    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["SSL_PROTOCOL"] = self.connection.version() if isinstance(self.connection, ssl.SSLSocket) else ""
        return environ


def _application() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    emulator = DomainDispatcherApplication(create_backend_app)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == INVENTORY_PATH:
            return _answer(start_response, 200, resources.inventory(DEFAULT_ACCOUNT_ID))
        if path in CONTROL_HANDLERS:
            return _control(environ, start_response, path)
        with fixes.request_context(environ):
            return emulator(environ, start_response)

    return application


def _control(environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
    if environ.get("REQUEST_METHOD") != "POST":
        return _answer(start_response, 405, {"error": f"{path} takes POST with a JSON object"})
    try:
        request = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"{}")
        if not isinstance(request, dict):
            raise operations.ControlError(400, "the request body must be a JSON object")
        return _answer(start_response, 200, CONTROL_HANDLERS[path](request, DEFAULT_ACCOUNT_ID))
    except json.JSONDecodeError as error:
        return _answer(start_response, 400, {"error": f"the request body is not JSON: {error}"})
    except operations.ControlError as error:
        return _answer(start_response, error.status, {"error": str(error)})


def _answer(start_response: Callable[..., Any], status: int, document: Any) -> Iterable[bytes]:
    body = json.dumps(document).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _stop_when_orphaned_or_overdue(deadline: float) -> None:
    """The emulator never outlives the process that started it, nor its time budget."""
    parent = os.getppid()
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(1)
    os._exit(0)


def serve(directory: Path, max_seconds: float, announce: Callable[[str], None]) -> None:
    """Serves until terminated, orphaned or ``max_seconds`` have passed; ``announce`` gets the endpoint URL."""
    cert_path, key_path = write_certificate(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    server = make_server(HOST, 0, _application(), threaded=True, request_handler=_RequestHandler, ssl_context=context)
    threading.Thread(target=_stop_when_orphaned_or_overdue, args=(time.monotonic() + max_seconds,), daemon=True).start()
    # "localhost" because moto resolves template URLs to its own S3 only when they name it.
    announce(f"https://localhost:{server.server_port}")
    server.serve_forever()
