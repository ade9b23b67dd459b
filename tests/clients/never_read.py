"""Sends requests to a server on this machine and never reads a reply.

    python3 tests/clients/never_read.py [PORT [SECONDS]]

The demo of back-pressure in v0.7's chapter. The client asks for a small
receive buffer (SO_RCVBUF, 4 KiB) before it connects, so the replies it
never reads fill it after a few kilobytes. Then the server's send buffer
for this client fills, then v0.7's 4096 bytes of replies waiting to be
sent, and the server stops reading from it. The requests pile up in the
kernels' buffers until the client's sends wait: it, not the server, is
the one held up.

It prints how many bytes it has sent once a second while that number
grows, and says when it stops growing: the server has stopped reading.
It holds the connection, still not reading, until SECONDS (default 30)
have passed, then closes. Linux grows the buffers of a loopback
connection as they fill, so several megabytes go before the sends wait
(about 7 MB here, 9 MB without the small SO_RCVBUF), in under a second.

Loopback only (127.0.0.1), PORT defaults to 9000.
"""

import socket
import sys
import time

REQUEST = b"GET/task_01/status\n"
RCVBUF = 4096


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Set before connect: the window offered to the server depends on it.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.settimeout(1.0)  # a send waits at most a second
    batch = REQUEST * 100
    sent = reported = 0
    stalled = False
    began = time.monotonic()
    next_report = began + 1
    while time.monotonic() - began < seconds:
        try:
            sent += s.send(batch)
        except TimeoutError:
            pass  # a second without room: the server is not reading
        except OSError as error:
            print(f"the server closed the connection: {error}")
            break
        if time.monotonic() < next_report:
            continue
        next_report += 1
        if sent > reported:
            print(f"sent {sent} bytes ({sent // len(REQUEST)} requests), read none")
            reported = sent
        elif not stalled:
            print(f"the server has stopped reading: it took nothing for a "
                  f"second; holding the connection until {seconds:g} s")
            stalled = True
    s.close()
    print("closed")


if __name__ == "__main__":
    main()
