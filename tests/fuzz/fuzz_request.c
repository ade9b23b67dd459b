/* Fuzz target: the request parser and answer() (request.c, todo.c).
 *
 * The input is what a client sends: requests ended by '\n'. Each becomes
 * the struct line the framing would give (over REQUEST_MAX bytes: too long
 * and empty), in a buffer of exactly its size so that a read past its end
 * is caught, and is answered on one list, as one connection's requests
 * are. Stages with POST run the input twice: on the first list, and on a
 * list with one free slot, so that the full list is reached too.
 *
 * Every reply must be one line: 2 to REPLY_MAX bytes, "\r\n" at its end
 * and nowhere else. From v0.5 on, parse_request() must agree with it: an
 * error for an error, pointers inside the request, ids and values within
 * their limits; and a POST that succeeded is what the next GET of its id
 * gets. */
#define _POSIX_C_SOURCE 200809L

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "request.h"
#include "todo.h"

static struct todo_list list;

/* Answers the request and checks that the reply is one well-formed line;
 * returns its length without the "\r\n". */
static size_t reply_to(const struct line *request, char *reply)
{
    size_t n = answer(&list, request, reply);

    assert(n >= 2 && n <= REPLY_MAX);
    assert(memcmp(reply + n - 2, "\r\n", 2) == 0);
    assert(memchr(reply, '\n', n - 1) == NULL);
    return n - 2;
}

static int is(const char *reply, size_t len, const char *text)
{
    return len == strlen(text) && memcmp(reply, text, len) == 0;
}

#ifdef FEATURE_list
static void check(const struct line *request, char *reply)
{
    size_t len = reply_to(request, reply);

    assert(is(reply, len, "{'task_01': 'see someone', 'task_02': 'read book', "
                          "'task_03': 'play basketball'}"));
}
#endif

#ifdef FEATURE_get
/* Whether the n bytes at p lie inside the request's text. */
static int inside(const struct line *request, const char *p, size_t n)
{
    return p >= request->text && p + n <= request->text + request->len;
}

static void check_parse(const struct line *request, const struct request *req)
{
    if (req->kind == REQUEST_BAD) {
        assert(req->error != NULL && strncmp(req->error, "error: ", 7) == 0);
        return;
    }
    assert(!request->too_long);
    assert(memchr(request->text, '\0', request->len) == NULL);
    if (req->kind == REQUEST_OTHER)
        return;
    /* A GET or a POST: a task_id within its limit, inside the request. */
    assert(req->id_len >= 1 && req->id_len <= TODO_ID_MAX);
    assert(inside(request, req->id, req->id_len));
    assert(memchr(req->id, '/', req->id_len) == NULL);
#ifdef FEATURE_post
    if (req->kind == REQUEST_POST) {
        assert(req->value_len <= TODO_VALUE_MAX);
        assert(req->value == req->id + req->id_len + 1);
        assert(inside(request, req->value, req->value_len));
        return;
    }
#endif
    assert(req->kind == REQUEST_GET);
}

#ifdef FEATURE_post
/* What GET/<id>/ now gets: the value just stored, or no key match. */
static void check_stored(const struct request *req, int stored)
{
    char text[4 + TODO_ID_MAX + 1];
    char reply[REPLY_MAX];
    struct line get = {text, 4 + req->id_len + 1, false};
    size_t len;

    memcpy(text, "GET/", 4);
    memcpy(text + 4, req->id, req->id_len);
    text[4 + req->id_len] = '/';
    len = reply_to(&get, reply);
    if (stored)
        assert(len == req->value_len && memcmp(reply, req->value, len) == 0);
    else
        assert(is(reply, len, "no key match"));
}
#endif

static void check(const struct line *request, char *reply)
{
    struct request req;
    size_t len;

    parse_request(request, &req);
    check_parse(request, &req);
    len = reply_to(request, reply);
    if (req.kind == REQUEST_BAD)
        assert(is(reply, len, req.error));
    else if (req.kind == REQUEST_OTHER)
        assert(is(reply, len, "data no found"));
#ifdef FEATURE_post
    /* Refused, a POST stores nothing: only a new id, on a full list. */
    else if (req.kind == REQUEST_POST)
        check_stored(&req, is(reply, len, "submit success"));
#endif
}
#endif

/* Answers each request of the input in turn. */
static void answer_all(const uint8_t *data, size_t size)
{
    char *reply = malloc(REPLY_MAX);

    assert(reply != NULL);
    for (const uint8_t *end; (end = memchr(data, '\n', size)) != NULL;) {
        size_t len = (size_t)(end - data);
        /* Exactly its size: reading one byte more is caught, even from
         * an empty request (AddressSanitizer's malloc(0) is not NULL). */
        char *text = malloc(len);
        struct line request = {text, len, len > REQUEST_MAX};

        assert(text != NULL);
        memcpy(text, data, len);
        if (request.too_long)
            request.len = 0;
        check(&request, reply);
        free(text);
        size -= len + 1;
        data = end + 1;
    }
    free(reply);
}

#ifdef FEATURE_post
/* The first list and 1,020 more tasks: room for one more. */
static void fill_all_but_one(struct todo_list *full)
{
    char id[16];

    todo_init(full);
    for (int i = 0; full->count < TODO_CAPACITY - 1; i++) {
        size_t len = (size_t)snprintf(id, sizeof id, "fill%d", i);
        bool stored = todo_put(full, id, len, "v", 1);
        assert(stored);
    }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    todo_init(&list);
    answer_all(data, size);
#ifdef FEATURE_post
    static struct todo_list nearly_full;

    if (nearly_full.count == 0)
        fill_all_but_one(&nearly_full);
    list = nearly_full;
    answer_all(data, size);
#endif
    return 0;
}
