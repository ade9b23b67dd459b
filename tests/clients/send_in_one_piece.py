"""Sends 150 requests in one send, then waits for their replies, saying
when they come.

    python3 tests/clients/send_in_one_piece.py [PORT]

The demo of v0.7's chapter ("From select to poll to epoll"). The 2100
bytes of `GET/task_01/s` lines are more than one of the server's reads
takes (1025 bytes): a level-triggered loop is told again that bytes
wait, an edge-triggered one must read until EAGAIN, and one that reads
once per event leaves the rest in the socket, with no event to come for
them. Run it with the server under strace to see which.

Loopback only (127.0.0.1), PORT defaults to 9000. It waits 3 s at most
for the next reply, then closes, replies or not; once every reply has
come, it closes a second later.
"""

import socket
import sys
import time

REQUEST, REPLY, COUNT = b"GET/task_01/s\n", b"see someone\r\n", 150
WAIT = 3.0  # seconds without a reply before it gives up


def say(text):
    print(text, flush=True)  # at once, even into a pipe


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as s:
        s.sendall(REQUEST * COUNT)
        say(f"sent {COUNT} requests ({len(REQUEST) * COUNT} bytes) in one send")
        began, got = time.monotonic(), b""
        while len(got) < len(REPLY) * COUNT:
            try:
                chunk = s.recv(1 << 16)
            except socket.timeout:
                say(f"nothing more for {WAIT:g} s: {got.count(REPLY)} replies "
                      f"of {COUNT}; closing")
                return
            if not chunk:
                say("the server closed the connection")
                return
            got += chunk
            say(f"{time.monotonic() - began:5.3f} s: {got.count(REPLY)} "
                  f"replies in all")
        say("every reply came; closing in a second")
        time.sleep(1)  # the server goes back to waiting before the close comes


if __name__ == "__main__":
    main()
