"""``python -m rehearsal.emulator DIR``: the extended emulator over TLS on a free loopback port.

Writes its certificate (``emulator.crt``, the clients' CA bundle) and key into DIR, then prints one
line, ``ready <endpoint URL>``, and serves until terminated, orphaned or out of time.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from rehearsal.emulator import install
from rehearsal.emulator.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m rehearsal.emulator", description=__doc__)
    parser.add_argument("directory", type=Path, help="where to write the TLS certificate and key")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop after this long (default: 900)")
    args = parser.parse_args()
    install()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(args.directory, args.max_seconds, lambda endpoint: print(f"ready {endpoint}", flush=True))


if __name__ == "__main__":
    main()
