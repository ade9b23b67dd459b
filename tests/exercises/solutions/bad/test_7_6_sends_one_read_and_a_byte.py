"""A test of exercise 7.6 that its grade must refuse: it counts on how
much one read of v0.7's takes (1025 bytes, line.c's buffer) and sends one
byte more, in one piece.

It passes on every correct server, and catches a loop that reads once per
event, or until a request is whole: the byte left in the socket holds the
last request's newline. It misses a loop that reads four times per event,
which stops as surely before EAGAIN, but past 4100 bytes. A test must
send more than any server would read in one go, not more than one server
happens to read.

What its grade must say:
    catches edge-triggered-one-read-per-event
    catches edge-triggered-reads-until-a-request-is-whole
    misses edge-triggered-four-reads-per-event
"""

REQUEST, REPLY = b"GET/task_01/s\n", b"see someone\r\n"


def test_one_read_and_a_byte_of_requests_all_get_replies(server):
    count, pad = divmod(1026, len(REQUEST))
    first = b"GET/task_01/" + b"s" * (1 + pad) + b"\n"  # 1026 bytes in all
    with server.client() as c:
        c.send(first + REQUEST * (count - 1))
        got = [c.line() for _ in range(count)]
    assert got == [REPLY] * count
