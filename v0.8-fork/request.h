/* What a request means: the reply each request line gets. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>

#include "line.h"
#include "todo.h"

#define REPLY_MAX (TODO_VALUE_MAX + 2) /* the longest reply, its "\r\n" too */

enum request_kind {
    REQUEST_GET,   /* GET/<task_id>/<status> */
    REQUEST_POST,  /* POST/<task_id>=<value>/<status> */
    REQUEST_OTHER, /* a method this server does not know */
    REQUEST_BAD,   /* a known method in the wrong shape, or over a limit */
};

/* A request taken apart. Its pointers point into the request's text. */
struct request {
    enum request_kind kind;
    const char *error; /* REQUEST_BAD: the reply, "error: ..." */
    const char *id;    /* REQUEST_GET and REQUEST_POST: the task_id */
    size_t id_len;
    const char *value; /* REQUEST_POST: the value */
    size_t value_len;
};

/* Takes a request line apart: its method is the text before its first '/',
 * or all of it if it has none. */
void parse_request(const struct line *line, struct request *req);

/* Writes the reply to request into reply, ending in "\r\n", and returns
 * its length (at most REPLY_MAX). */
size_t answer(struct todo_list *list, const struct line *request, char *reply);

#endif
