"""Runs a command with every HTTP(S) proxy variable pointing at a loopback listener that records each connection
and answers none; prints what the command wrote and what tried to leave, as JSON.

Run it where loopback is the only network (``unshare -rn``), so that a client that ignores the proxy fails to
connect instead of reaching anything; its own output then tells of the attempt.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

_PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")


def _record(listener: socket.socket, attempts: list[str]) -> None:
    while True:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            try:
                attempts.append(connection.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace"))
                connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError as error:
                attempts.append(f"<connection without a request: {error}>")


def main(command: list[str]) -> int:
    listener = socket.create_server(("127.0.0.1", 0))
    attempts: list[str] = []
    threading.Thread(target=_record, args=(listener, attempts), daemon=True).start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    environment = {key: value for key, value in os.environ.items() if key.upper() != "NO_PROXY"}
    environment.update(dict.fromkeys(_PROXY_VARIABLES, proxy))
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, check=False)
    print(json.dumps({"returncode": result.returncode, "output": result.stdout + result.stderr, "attempts": attempts}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
