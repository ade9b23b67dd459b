/* The todo list. */
#define _POSIX_C_SOURCE 200809L

#include "todo.h"

#include <string.h>

static void set_task(struct task *task, const char *id, size_t id_len,
                     const char *value, size_t value_len)
{
    memcpy(task->id, id, id_len);
    task->id_len = id_len;
    memcpy(task->value, value, value_len);
    task->value_len = value_len;
}

void todo_init(struct todo_list *list)
{
    static const char *const first[][2] = {
        {"task_01", "see someone"},
        {"task_02", "read book"},
        {"task_03", "play basketball"},
    };

    list->count = 0;
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        set_task(&list->tasks[list->count++], first[i][0], strlen(first[i][0]),
                 first[i][1], strlen(first[i][1]));
    }
}

/* Appends len bytes at text[*at], as many as fit before size. */
static void append(char *text, size_t size, size_t *at, const char *bytes,
                   size_t len)
{
    if (len > size - *at)
        len = size - *at;
    memcpy(text + *at, bytes, len);
    *at += len;
}

size_t todo_format(const struct todo_list *list, char *text, size_t size)
{
    size_t at = 0;

    append(text, size, &at, "{", 1);
    for (size_t i = 0; i < list->count; i++) {
        const struct task *task = &list->tasks[i];
        if (i > 0)
            append(text, size, &at, ", ", 2);
        append(text, size, &at, "'", 1);
        append(text, size, &at, task->id, task->id_len);
        append(text, size, &at, "': '", 4);
        append(text, size, &at, task->value, task->value_len);
        append(text, size, &at, "'", 1);
    }
    append(text, size, &at, "}", 1);
    return at;
}
