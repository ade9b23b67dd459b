"""Exercise 7.2 (v0.7-select): `exit` in the event loop.

What exercise 4.1 asks, in v0.7's select() loop: the request line `exit`
gets no reply; the server sends every reply owed before it, then closes
the connection; nothing after it gets a reply. The loop must not block on
that client meanwhile: other clients are served while its replies drain.
"""

import threading

from grade_4_1 import (  # noqa: F401  (4.1's tests, run on this stage)
    test_a_line_that_only_contains_exit_is_a_request,
    test_exit_after_500_requests_waits_for_every_reply,
    test_exit_as_the_first_request_closes_at_once,
    test_exit_closes_the_connection,
    test_exit_that_arrives_in_pieces_still_counts,
    test_one_client_saying_exit_leaves_the_others_served,
    test_replies_owed_before_exit_are_sent_and_nothing_after_it,
)
from grading import expect


def test_others_are_served_while_a_slow_reader_is_owed_replies(server):
    request, reply = server.probe
    n = 20000
    with server.client() as slow, server.client() as other:
        sender = threading.Thread(target=slow.send,
                                  args=(request * n + b"exit\n",))
        sender.start()  # the server soon stops reading: slow does not read
        try:
            for _ in range(20):
                expect(other, request, reply,
                       "A client that sent many requests and exit, and does "
                       "not read its replies yet, delays no one: the loop "
                       "keeps serving the others.")
        finally:
            expect(slow, None, reply * n,
                   f"The slow client reads at last: every one of the {n} "
                   f"replies owed before its exit comes, then the connection "
                   f"closes.", closes=True)
            sender.join()
