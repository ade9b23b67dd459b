"""Exercise 7.3, a reference test: a client that reads late still gets
every reply, whole and in order.

On a non-blocking socket, write() takes only what fits in the kernel's
buffers, which may be part of what it was given, or nothing (EAGAIN). A
client that reads nothing for a while makes that happen: the buffers
between it and the server fill up. So this client sends requests for 8
MiB of replies, more than those buffers hold, reads nothing for a second,
then reads to the end. The replies differ in length and content, so a
reply lost, cut or sent twice shows, not only a count that is wrong.
"""

import threading

from harness import TIMEOUT

VALUES = [b"a" * 256, b"b" * 129, b"c" * 64, b"d" * 7, b"e" * 200]
REPLIES = 8 << 20  # bytes


def store_values(server):
    with server.client() as c:
        for i, value in enumerate(VALUES):
            c.send(b"POST/k%d=%s/s\n" % (i, value))
            assert c.line() == b"submit success\r\n", f"POST of k{i}"


def send_then_close_side(client, data, problems):
    try:
        client.send(data)
        client.shutdown_write()
    except OSError as error:
        problems.append(error)


def first_difference(got, expected):
    at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
              min(len(got), len(expected)))
    return (f"byte {at}: got {got[at:at + 40]!r}, "
            f"expected {expected[at:at + 40]!r}")


def test_a_client_that_reads_late_gets_every_reply_whole_and_in_order(server):
    store_values(server)
    rounds = REPLIES // sum(len(v) + 2 for v in VALUES)
    requests = b"".join(b"GET/k%d/s\n" % i for i in range(len(VALUES))) * rounds
    expected = b"".join(v + b"\r\n" for v in VALUES) * rounds
    problems = []
    with server.client() as c:
        sender = threading.Thread(target=send_then_close_side,
                                  args=(c, requests, problems))
        sender.start()
        sender.join(1.0)  # a slow reader: it reads nothing for a second
        got = c.wait_closed()
        sender.join(TIMEOUT)
    assert not problems, f"sending the requests failed: {problems[0]}"
    # Compared apart from the assert: pytest's own account of two unequal
    # 8 MiB strings (a full diff) could take minutes.
    whole = got == expected
    assert whole, (
        f"sent {len(VALUES) * rounds} requests for {len(expected)} bytes of "
        f"replies and read nothing for a second: expected every reply whole "
        f"and in order, then the close; got {len(got)} bytes, the first "
        f"difference at {first_difference(got, expected)}")
