"""The todo stages, v0.4 on: framing, the list, GET, POST and the limits,
over real sockets. Every stage that has a feature runs its tests, so a new
todo stage joins them by adding its row to stages.txt.
"""

import socket
import threading

import pytest

from harness import LIST_REPLY, ask, ask_many, in_parallel

pytestmark = pytest.mark.stages("todo")


# ------------------------------------------------------------------ framing


def test_a_request_sent_byte_by_byte_gets_one_reply(server):
    request, reply = server.probe
    with server.client() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(request)):
            c.send(request[i:i + 1])
        assert c.line() == reply
        c.send(request)  # the next reply is the one for this request
        assert c.line() == reply


def test_many_requests_in_one_send_get_one_reply_each_in_order(server):
    requests, replies = varied_requests(server.features)
    with server.client() as c:
        assert ask_many(c, requests * 50) == replies * 50


def varied_requests(features):
    """Requests whose replies differ, so an answer out of order shows."""
    if "get" in features:
        return ([b"GET/task_01/s", b"GET/task_02/s", b"nope", b"GET/task_03/s"],
                [b"see someone\r\n", b"read book\r\n", b"data no found\r\n",
                 b"play basketball\r\n"])
    return [b"a", b"", b"c"], [LIST_REPLY] * 3


def test_crlf_and_lf_both_end_a_request(server):
    request, reply = server.probe
    bare = request.rstrip(b"\n")
    with server.client() as c:
        c.send(bare + b"\r\n" + bare + b"\n")
        assert [c.line(), c.line()] == [reply, reply]


def test_bytes_after_the_last_newline_get_no_reply(server):
    request, reply = server.probe
    with server.client() as c:
        c.send(request + request[:5])
        c.shutdown_write()
        assert c.wait_closed() == reply


def test_every_reply_owed_is_sent_after_the_client_half_closes(server):
    requests, replies = varied_requests(server.features)
    with server.client() as c:
        c.send(b"".join(r + b"\n" for r in requests * 100))
        c.shutdown_write()
        assert c.wait_closed() == b"".join(replies * 100)


def test_client_reset_while_the_server_replies_harms_no_one(server):
    request, _ = server.probe
    for _ in range(10):
        c = server.client()
        c.send(request * 2000)
        c.reset()
    server.assert_serves()


# ------------------------------------------------------------------ v0.4


@pytest.mark.stages("list")
@pytest.mark.parametrize("request_", [b"anything", b"", b"GET/task_01/status",
                                      b"x" * 2000])
def test_every_request_gets_the_whole_list(server, request_):
    with server.client() as c:
        assert ask(c, request_) == (
            b"{'task_01': 'see someone', 'task_02': 'read book', "
            b"'task_03': 'play basketball'}\r\n")


# ------------------------------------------------------------------ GET

GET_REPLIES = [
    (b"GET/task_01/status", b"see someone\r\n"),
    (b"GET/task_02/", b"read book\r\n"),
    (b"GET/task_03/any status at all", b"play basketball\r\n"),
    (b"GET/task_99/status", b"no key match\r\n"),
    (b"GET/TASK_01/status", b"no key match\r\n"),
    (b"GET/task_0/status", b"no key match\r\n"),
    (b"get/task_01/status", b"data no found\r\n"),
    (b"GETX/task_01/status", b"data no found\r\n"),
    (b" GET/task_01/status", b"data no found\r\n"),
    (b"hello GET", b"data no found\r\n"),
    (b"", b"data no found\r\n"),
]


@pytest.mark.stages("get")
@pytest.mark.parametrize("request_,reply", GET_REPLIES, ids=repr)
def test_get_reply(server, request_, reply):
    with server.client() as c:
        assert ask(c, request_) == reply


@pytest.mark.stages("get")
@pytest.mark.parametrize("request_", [
    b"GET", b"GET/", b"GET/task_01", b"GET//status", b"GET/task_01/status/x",
], ids=repr)
def test_get_in_a_wrong_shape_gets_an_error_naming_the_form(server, request_):
    with server.client() as c:
        reply = ask(c, request_)
        assert reply.startswith(b"error: ") and reply.endswith(b"\r\n")
        assert b"GET/<task_id>/<status>" in reply
        assert ask(c, b"GET/task_01/s") == b"see someone\r\n"


@pytest.mark.stages("get", "!post")
def test_post_is_an_unknown_method_before_v0_6(server):
    with server.client() as c:
        assert ask(c, b"POST/task_04=write code/status") == b"data no found\r\n"
        assert ask(c, b"GET/task_04/status") == b"no key match\r\n"


# ------------------------------------------------------------------ POST


@pytest.mark.stages("post")
def test_the_articles_session(server):
    with server.client() as c:
        assert ask(c, b"GET/task_01/status") == b"see someone\r\n"
        assert ask(c, b"POST/task_04=write code/status") == b"submit success\r\n"
        assert ask(c, b"GET/task_04/x") == b"write code\r\n"


@pytest.mark.stages("post")
def test_post_replaces_a_value_and_keeps_an_empty_one(server):
    with server.client() as c:
        assert ask(c, b"POST/task_01=see no one/s") == b"submit success\r\n"
        assert ask(c, b"GET/task_01/s") == b"see no one\r\n"
        assert ask(c, b"POST/task_01=/s") == b"submit success\r\n"
        assert ask(c, b"GET/task_01/s") == b"\r\n"


@pytest.mark.stages("post")
def test_ids_are_case_sensitive(server):
    with server.client() as c:
        assert ask(c, b"POST/Task=upper/s") == b"submit success\r\n"
        assert ask(c, b"POST/task=lower/s") == b"submit success\r\n"
        assert ask(c, b"GET/Task/s") == b"upper\r\n"
        assert ask(c, b"GET/task/s") == b"lower\r\n"
        assert ask(c, b"GET/TASK/s") == b"no key match\r\n"


@pytest.mark.stages("post")
@pytest.mark.parametrize("request_", [
    b"POST", b"POST/task_04=x", b"POST/task_04/status", b"POST/=x/status",
    b"POST/task_04=x=y/status", b"POST/task_04=x/status/more",
], ids=repr)
def test_post_in_a_wrong_shape_gets_an_error_and_stores_nothing(server, request_):
    with server.client() as c:
        reply = ask(c, request_)
        assert reply.startswith(b"error: ")
        assert b"POST/<task_id>=<value>/<status>" in reply
        assert ask(c, b"GET/task_04/s") == b"no key match\r\n"


@pytest.mark.stages("post")
def test_a_post_is_seen_by_a_get_on_another_connection(server):
    with server.client() as writer, server.client() as reader:
        assert ask(reader, b"GET/shared/s") == b"no key match\r\n"
        assert ask(writer, b"POST/shared=seen by all/s") == b"submit success\r\n"
        assert ask(reader, b"GET/shared/s") == b"seen by all\r\n"
    with server.client() as later:
        assert ask(later, b"GET/shared/s") == b"seen by all\r\n"


@pytest.mark.stages("post")
def test_20_clients_posting_50_keys_each_at_once_lose_none(server):
    start = threading.Barrier(20)

    def post_keys(i):
        with server.client() as c:
            start.wait()
            for j in range(50):
                assert ask(c, b"POST/c%d_k%d=value %d.%d/s" % (i, j, i, j)) \
                    == b"submit success\r\n"

    in_parallel(20, post_keys)
    with server.client() as c:
        requests = [b"GET/c%d_k%d/s" % (i, j) for i in range(20) for j in range(50)]
        replies = [b"value %d.%d\r\n" % (i, j) for i in range(20) for j in range(50)]
        assert ask_many(c, requests) == replies


@pytest.mark.stages("post")
def test_a_full_list_refuses_a_new_task_but_still_replaces(server):
    with server.client() as c:
        fill = [b"POST/k%d=v/s" % i for i in range(3, 1024)]
        assert set(ask_many(c, fill)) == {b"submit success\r\n"}
        reply = ask(c, b"POST/one_too_many=v/s")
        assert reply.startswith(b"error: ") and b"full" in reply
        assert ask(c, b"GET/one_too_many/s") == b"no key match\r\n"
        assert ask(c, b"POST/task_01=still works/s") == b"submit success\r\n"
        assert ask(c, b"GET/task_01/s") == b"still works\r\n"


# ------------------------------------------------------------------ limits

I64, I65 = b"i" * 64, b"i" * 65
V256, V257 = b"v" * 256, b"v" * 257




def get_of_length(n, cr=b""):
    """A GET of task_01 that is n bytes long, the \r in cr counted."""
    head = b"GET/task_01/"
    return head + b"s" * (n - len(head) - len(cr)) + cr


# (request, what its error says or None for no error)
LIMITS = [
    (get_of_length(1024), None),
    (get_of_length(1025), b"1024"),
    (get_of_length(1024, cr=b"\r"), None),
    (get_of_length(1025, cr=b"\r"), b"1024"),
    (get_of_length(100000), b"1024"),
    (b"GET/task_01/st\0tus", b"NUL"),
    (b"\0", b"NUL"),
    (b"GET/" + I64 + b"/s", None),
    (b"GET/" + I65 + b"/s", b"task_id"),
]

# (request, what its error says or None, a GET after it, that GET's reply)
POST_LIMITS = [
    (b"POST/" + I64 + b"=v/s", None, b"GET/" + I64 + b"/s", b"v\r\n"),
    (b"POST/" + I65 + b"=v/s", b"task_id", b"GET/" + I64 + b"/s",
     b"no key match\r\n"),
    (b"POST/k=" + V256 + b"/s", None, b"GET/k/s", V256 + b"\r\n"),
    (b"POST/k=" + V257 + b"/s", b"value", b"GET/k/s", b"no key match\r\n"),
    (b"POST/k=v\0/s", b"NUL", b"GET/k/s", b"no key match\r\n"),
]


def short(value):
    return repr(value)[:30] if isinstance(value, bytes) else repr(value)


@pytest.mark.stages("limits")
@pytest.mark.parametrize("request_,says", LIMITS, ids=short)
def test_limit(server, request_, says):
    with server.client() as c:
        check_limit(c, request_, says)


@pytest.mark.stages("limits", "post")
@pytest.mark.parametrize("request_,says,get,stored", POST_LIMITS, ids=short)
def test_post_limit(server, request_, says, get, stored):
    with server.client() as c:
        check_limit(c, request_, says)
        assert ask(c, get) == stored


def check_limit(client, request_, says):
    """The request gets an error that says `says` (no error if None), and
    the connection still answers the next request."""
    reply = ask(client, request_)
    if says is None:
        assert not reply.startswith(b"error: ")
    else:
        assert reply.startswith(b"error: ") and says in reply
    assert ask(client, b"GET/task_01/s") == b"see someone\r\n"
