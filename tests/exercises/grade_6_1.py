"""Exercise 6.1 (v0.6-post): `DELETE/<task_id>/<status>`.

`DELETE/<task_id>/<status>` (exactly two '/', a task_id that is not empty)
removes the task and gets `delete success`, or `no key match` if there is
no such task. DELETE in any other shape gets an error that names
`DELETE/<task_id>/<status>`; a task_id over 64 bytes gets an error too, as
for GET, and so does a DELETE over 1024 bytes or with a NUL byte, as any
request. A task_id is compared whole: `task_0` is not `task_01`. Every
other task stays, with its value, whichever task is deleted (the first,
the last, the only one). A deleted task's place is free again: a full list
takes a new task once one is deleted. Deletes, like posts, are seen by
every client, and never corrupt the list, however many clients post and
delete at once.
"""

import threading

import pytest

from grading import ask, check_limits, expect, expect_error
from harness import in_parallel

DELETED = b"delete success\r\n"
NO_KEY = b"no key match\r\n"


def test_delete_removes_the_task_and_only_it(server):
    with server.client() as c:
        ask(c, b"DELETE/task_02/s", DELETED,
            "DELETE of a task that exists gets 'delete success'.")
        ask(c, b"GET/task_02/s", NO_KEY, "A deleted task is gone.")
        ask(c, b"GET/task_01/s", b"see someone\r\n", "The other tasks stay.")
        ask(c, b"GET/task_03/s", b"play basketball\r\n", "The other tasks stay.")


def test_deleting_a_task_that_is_not_there_gets_no_key_match(server):
    with server.client() as c:
        ask(c, b"DELETE/task_99/s", NO_KEY,
            "DELETE of a task that does not exist gets 'no key match'.")
        ask(c, b"DELETE/task_01/", DELETED, "The status may be empty.")
        ask(c, b"DELETE/task_01/s", NO_KEY,
            "A second DELETE of the same task finds nothing to delete.")
        ask(c, b"DELETE/TASK_03/s", NO_KEY, "Task ids are case-sensitive.")


def test_deleting_the_last_task_then_the_first_then_every_task(server):
    with server.client() as c:
        ask(c, b"DELETE/task_03/s", DELETED, "DELETE of the last task.")
        ask(c, b"GET/task_01/s", b"see someone\r\n", "The other tasks stay.")
        ask(c, b"GET/task_02/s", b"read book\r\n", "The other tasks stay.")
        ask(c, b"DELETE/task_01/s", DELETED, "DELETE of the first task.")
        ask(c, b"GET/task_02/s", b"read book\r\n", "The other task stays.")
        ask(c, b"DELETE/task_02/s", DELETED, "DELETE of the only task left.")
        for task in (b"task_01", b"task_02", b"task_03"):
            ask(c, b"GET/%s/s" % task, NO_KEY, "Every task was deleted: the "
                "list is empty.")
        ask(c, b"DELETE/task_02/s", NO_KEY,
            "DELETE in an empty list finds nothing to delete.")
        ask(c, b"POST/task_04=new/s", b"submit success\r\n",
            "An empty list takes a new task.")
        ask(c, b"GET/task_04/s", b"new\r\n", "GET finds it.")


def test_a_task_id_is_compared_whole(server):
    with server.client() as c:
        for almost in (b"task_0", b"task_011", b"task", b"TASK_01"):
            ask(c, b"DELETE/%s/s" % almost, NO_KEY,
                "DELETE deletes the task whose id is exactly the task_id "
                "given, every byte and no more: no task has this one.")
        ask(c, b"GET/task_01/s", b"see someone\r\n",
            "task_01 is still there: nothing was deleted.")


def test_a_deleted_task_can_be_posted_again(server):
    with server.client() as c:
        ask(c, b"DELETE/task_01/s", DELETED, "DELETE removes the task.")
        ask(c, b"POST/task_01=see someone else/s", b"submit success\r\n",
            "A deleted task_id can be posted again.")
        ask(c, b"GET/task_01/s", b"see someone else\r\n",
            "GET finds the new value.")


def test_a_delete_frees_a_place_in_a_full_list(server):
    with server.client() as c:
        fill = b"".join(b"POST/k%d=v%d/s\n" % (i, i) for i in range(3, 1024))
        expect(c, fill, b"submit success\r\n" * 1021,
               "1021 posts fill the list to its 1024 tasks.")
        expect_error(c, b"POST/one_more=v/s", b"full",
                     "The list is full: a new task is refused.")
        ask(c, b"DELETE/k500/s", DELETED, "DELETE removes a task.")
        ask(c, b"POST/one_more=v1024/s", b"submit success\r\n",
            "After a DELETE the full list has room for one new task: delete "
            "must free the task's place, not only hide it.")
        kept = [i for i in range(3, 1024) if i != 500]
        expect(c, b"".join(b"GET/k%d/s\n" % i for i in kept)
               + b"GET/one_more/s\nGET/k500/s\n",
               b"".join(b"v%d\r\n" % i for i in kept) + b"v1024\r\n" + NO_KEY,
               "Every task but the deleted one stays, with its own value: the "
               "first, the last, and the one posted after the DELETE.")


@pytest.mark.parametrize("request_", [
    b"DELETE", b"DELETE/", b"DELETE/task_01", b"DELETE//s",
    b"DELETE/task_01/s/x",
], ids=repr)
def test_delete_in_a_wrong_shape_gets_an_error_and_deletes_nothing(server, request_):
    with server.client() as c:
        expect_error(c, request_, b"DELETE/<task_id>/<status>",
                     "DELETE needs exactly two '/' and a task_id between "
                     "them: any other shape gets an error that names the form.")
        ask(c, b"GET/task_01/s", b"see someone\r\n", "Nothing was deleted.")


def test_a_task_id_of_64_bytes_is_deleted_and_one_over_gets_an_error(server):
    with server.client() as c:
        ask(c, b"POST/" + b"i" * 64 + b"=v/s", b"submit success\r\n",
            "A task_id of 64 bytes is a task_id.")
        ask(c, b"DELETE/" + b"i" * 64 + b"/s", DELETED,
            "DELETE takes a task_id of 64 bytes, as GET and POST do.")
        expect_error(c, b"DELETE/" + b"i" * 65 + b"/s", b"task_id",
                     "A task_id over 64 bytes gets an error (one that says "
                     "task_id), as in a GET or a POST.")


def test_delete_obeys_the_limits_every_request_has(server):
    check_limits(server, b"DELETE/task_02/", DELETED)


@pytest.mark.parametrize("request_", [b"delete/task_01/s", b"Delete/task_01/s",
                                      b"DELETES/task_01/s", b"DELET/task_01/s"],
                         ids=repr)
def test_a_method_is_the_whole_text_before_the_first_slash(server, request_):
    with server.client() as c:
        ask(c, request_, b"data no found\r\n",
            "A method is the whole text before the first '/', compared whole "
            "and case-sensitive: this one is not DELETE.")
        ask(c, b"GET/task_01/s", b"see someone\r\n", "Nothing was deleted.")


def test_a_delete_is_seen_by_every_other_client(server):
    with server.client() as writer, server.client() as reader:
        ask(reader, b"GET/task_03/s", b"play basketball\r\n", "The task is there.")
        ask(writer, b"DELETE/task_03/s", DELETED, "DELETE removes it.")
        ask(reader, b"GET/task_03/s", NO_KEY,
            "Another client's GET no longer finds the deleted task.")


def test_20_clients_posting_and_deleting_at_once_leave_the_right_tasks(server):
    start = threading.Barrier(20)

    def work(i):
        with server.client() as c:
            start.wait()
            for j in range(40):
                ask(c, b"POST/c%d_%d=v%d/s" % (i, j, j), b"submit success\r\n",
                    "Posts from 20 clients at once all succeed.")
                if j % 2 == 0:
                    ask(c, b"DELETE/c%d_%d/s" % (i, j), DELETED,
                        "Each client deletes the task it has just posted.")

    in_parallel(20, work)
    with server.client() as c:
        requests = b"".join(b"GET/c%d_%d/s\n" % (i, j)
                            for i in range(20) for j in range(40))
        replies = b"".join(NO_KEY if j % 2 == 0 else b"v%d\r\n" % j
                           for i in range(20) for j in range(40))
        expect(c, requests, replies,
               "After 20 clients posted 40 tasks each and deleted every other "
               "one, at the same time: the deleted ones are gone and every "
               "other one is there with its value (the lock must cover "
               "DELETE too).")
