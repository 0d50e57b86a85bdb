"""Runs the rehearsal in a network namespace of its own, where only loopback exists.

The emulator, the CDK CLI and every SDK call then physically cannot reach anything but
127.0.0.1, whatever a tool's defaults (notices, telemetry, credential lookups) would try.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
import sys

_MARKER = "REHEARSAL_NETWORK_NAMESPACE"
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


class IsolationError(RuntimeError):
    pass


def ensure_isolated(argv: list[str]) -> None:
    """Re-executes ``python -m rehearsal argv`` inside a new network namespace unless already in one.

    Returns only inside the namespace, with the loopback interface up.
    """
    if os.environ.get(_MARKER) != "1":
        unshare = shutil.which("unshare")
        if unshare is None:
            raise IsolationError("the rehearsal needs `unshare` (util-linux) to cut itself off from the network")
        # Without root, a user namespace grants the right to create the network namespace.
        user = [] if os.geteuid() == 0 else ["--map-root-user"]
        os.environ[_MARKER] = "1"
        os.execv(unshare, [unshare, "--net", *user, "--", sys.executable, "-m", "rehearsal", *argv])
    _bring_loopback_up()
    interfaces = sorted(name for _, name in socket.if_nameindex())
    if interfaces != ["lo"]:
        raise IsolationError(f"expected a network namespace with loopback only, found interfaces {interfaces}")


def _bring_loopback_up() -> None:
    # A new network namespace starts with loopback down; `ip link set lo up` without needing iproute2.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | _IFF_UP, b""))
