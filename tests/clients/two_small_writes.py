"""Times a reply sent as two small writes against the same reply in one.

    python3 tests/clients/two_small_writes.py [EXCHANGES]

Exercise 3.1's advice ("send the number and the message in one
write_all"), measured. A server and a client on loopback, in one process:
the client sends `hello\\n` and waits for the whole reply, `1: hello\\n`;
the server sends it in one write, or as `1: ` then `hello\\n`, or as two
writes with TCP_NODELAY set. Each way runs EXCHANGES (50) times on a
connection of its own, and the median, lowest and highest time of an
exchange are printed, in milliseconds.

Two small writes wait on each other when Nagle's algorithm (RFC 896),
which TCP applies unless TCP_NODELAY is set, holds the second while the
first is not acknowledged, and the client's delayed ACK (RFC 1122; on
Linux 40 ms at least) holds the acknowledgement back, waiting for data to
send with it, which never comes: the client is waiting for the rest of
the reply. Loopback only (127.0.0.1); it stops by itself.
"""

import socket
import statistics
import sys
import threading
import time

REQUEST = b"hello\n"
REPLY = b"1: hello\n"
WAYS = {
    "one write": [REPLY],
    "two writes": [b"1: ", b"hello\n"],
    "two writes, TCP_NODELAY": [b"1: ", b"hello\n"],
}


def serve(listener, pieces, nodelay):
    conn, _ = listener.accept()
    with conn:
        if nodelay:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while conn.recv(64):
            for piece in pieces:
                conn.send(piece)  # a few bytes: each send takes them all


def exchanges(way, count):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        server = threading.Thread(target=serve, args=(
            listener, WAYS[way], way.endswith("TCP_NODELAY")), daemon=True)
        server.start()
        times = []
        with socket.create_connection(listener.getsockname(), timeout=10) as c:
            for _ in range(count):
                start = time.perf_counter()
                c.sendall(REQUEST)
                got = b""
                while len(got) < len(REPLY):
                    piece = c.recv(64)
                    if not piece:
                        raise SystemExit("the server closed the connection")
                    got += piece
                times.append((time.perf_counter() - start) * 1000)
        server.join(10)
        return times


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    for way in WAYS:
        times = exchanges(way, count)
        print(f"{way:24} median {statistics.median(times):7.3f} ms, "
              f"lowest {min(times):7.3f}, highest {max(times):7.3f} "
              f"({count} exchanges)")


if __name__ == "__main__":
    main()
