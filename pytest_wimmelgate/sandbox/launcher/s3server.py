"""A moto S3 server in a process of its own, so it can be paused or killed like real S3.

``python -m pytest_wimmelgate.sandbox.launcher.s3server --port P`` serves until SIGTERM/SIGINT.
moto keeps its data in memory only, so on a signal the process just exits: nothing to
flush, and werkzeug's orderly shutdown would wait for its 0.5 s poll.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

START_TIMEOUT_S = 10.0
STOP_POLL_S = 0.02


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_wimmelgate.sandbox.launcher.s3server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from moto.server import ThreadedMotoServer

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    # start() waits forever when the port cannot be bound (the error ends moto's thread),
    # so wait for it on a helper thread with a bound.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(START_TIMEOUT_S)
    if starter.is_alive():
        print(f"s3server: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    print(f"s3server: moto S3 listening on http://{args.host}:{args.port}", flush=True)
    while not stop.wait(STOP_POLL_S):
        pass
    return 0  # the server's thread is a daemon: it ends with the process


if __name__ == "__main__":
    sys.exit(main())
