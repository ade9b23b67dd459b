/* What a request means: parse it, then act on the list. */
#define _POSIX_C_SOURCE 200809L

#include "request.h"

#include <stdbool.h>
#include <string.h>

/* How many times c occurs in the len bytes at text. */
static size_t count(const char *text, size_t len, char c)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += text[i] == c;
    return n;
}

/* How many bytes come before the first c, or len if there is none. */
static size_t span(const char *text, size_t len, char c)
{
    const char *found = memchr(text, c, len);

    return found != NULL ? (size_t)(found - text) : len;
}

/* Whether the len bytes at text are exactly word. */
static bool is(const char *text, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(text, word, len) == 0;
}

static void refuse(struct request *req, const char *error)
{
    req->kind = REQUEST_BAD;
    req->error = error;
}

/* GET/<task_id>/<status>: exactly two '/', a task_id that is not empty;
 * the status may be empty, and is not used. */
static void parse_get(const char *text, size_t len, struct request *req)
{
    const char *id = text + 4; /* after "GET/" */

    if (count(text, len, '/') != 2 || id[0] == '/') {
        refuse(req, "error: expected GET/<task_id>/<status>");
        return;
    }
    req->id = id;
    req->id_len = span(id, len - 4, '/');
    if (req->id_len > TODO_ID_MAX)
        refuse(req, "error: task_id longer than 64 bytes");
    else
        req->kind = REQUEST_GET;
}

/* POST/<task_id>=<value>/<status>: exactly two '/', exactly one '=' between
 * them, a task_id that is not empty; the value may be empty. */
static void parse_post(const char *text, size_t len, struct request *req)
{
    const char *field = text + 5; /* after "POST/", if there are two '/' */
    size_t field_len = 0;

    if (count(text, len, '/') == 2)
        field_len = span(field, len - 5, '/');
    if (field_len == 0 || count(field, field_len, '=') != 1 || field[0] == '=') {
        refuse(req, "error: expected POST/<task_id>=<value>/<status>");
        return;
    }
    req->id = field;
    req->id_len = span(field, field_len, '=');
    req->value = field + req->id_len + 1;
    req->value_len = field_len - req->id_len - 1;
    if (req->id_len > TODO_ID_MAX)
        refuse(req, "error: task_id longer than 64 bytes");
    else if (req->value_len > TODO_VALUE_MAX)
        refuse(req, "error: value longer than 256 bytes");
    else
        req->kind = REQUEST_POST;
}

void parse_request(const struct line *line, struct request *req)
{
    size_t method_len = span(line->text, line->len, '/');

    memset(req, 0, sizeof *req);
    if (line->too_long)
        refuse(req, "error: request longer than 1024 bytes");
    else if (memchr(line->text, '\0', line->len) != NULL)
        refuse(req, "error: request contains a NUL byte");
    else if (is(line->text, method_len, "GET"))
        parse_get(line->text, line->len, req);
    else if (is(line->text, method_len, "POST"))
        parse_post(line->text, line->len, req);
    else
        req->kind = REQUEST_OTHER;
}

/* Writes len bytes of text and "\r\n" into reply; returns the length. */
static size_t reply_with(char *reply, const char *text, size_t len)
{
    memcpy(reply, text, len);
    memcpy(reply + len, "\r\n", 2);
    return len + 2;
}

static size_t say(char *reply, const char *text)
{
    return reply_with(reply, text, strlen(text));
}

size_t answer(struct todo_list *list, const struct line *request, char *reply)
{
    struct request req;
    const struct task *task;

    parse_request(request, &req);
    switch (req.kind) {
    case REQUEST_GET:
        task = todo_get(list, req.id, req.id_len);
        if (task == NULL)
            return say(reply, "no key match");
        return reply_with(reply, task->value, task->value_len);
    case REQUEST_POST:
        if (!todo_put(list, req.id, req.id_len, req.value, req.value_len))
            return say(reply, "error: todo list full (1024 tasks)");
        return say(reply, "submit success");
    case REQUEST_OTHER:
        return say(reply, "data no found");
    case REQUEST_BAD:
        break;
    }
    return say(reply, req.error);
}
