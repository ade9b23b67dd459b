"""Sends 16 KiB to a server on this machine, then closes without reading.

    python3 tests/clients/send_and_close.py [PORT]

The demo of v0.2's chapter ("SIGPIPE, seen"). The echo server reads the
bytes 1024 at a time and writes each chunk back, but this client has
closed by then: its kernel answers the first echo that arrives with a
reset (RST), and the server's writes after that go to a connection that
no longer exists. Without SIGPIPE ignored, the server would die there.
Run it with the server under strace to see the failed write.

Loopback only (127.0.0.1), PORT defaults to 9000; it exits at once.
"""

import socket
import sys

SIZE = 16 * 1024  # fits in flight: the send never waits for the server


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"x" * SIZE)
    print(f"sent {SIZE} bytes, read none of the echo, closed")


if __name__ == "__main__":
    main()
