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

/* The index of the task with this id, or list->count if there is none. */
static size_t find(const struct todo_list *list, const char *id, size_t id_len)
{
    size_t i;

    for (i = 0; i < list->count; i++) {
        const struct task *task = &list->tasks[i];
        if (task->id_len == id_len && memcmp(task->id, id, id_len) == 0)
            break;
    }
    return i;
}

const struct task *todo_get(const struct todo_list *list, const char *id,
                            size_t id_len)
{
    size_t i = find(list, id, id_len);

    return i < list->count ? &list->tasks[i] : NULL;
}

bool todo_put(struct todo_list *list, const char *id, size_t id_len,
              const char *value, size_t value_len)
{
    size_t i = find(list, id, id_len);

    if (id_len == 0 || id_len > TODO_ID_MAX || value_len > TODO_VALUE_MAX)
        return false;
    if (i == TODO_CAPACITY)
        return false;
    if (i == list->count)
        list->count++;
    set_task(&list->tasks[i], id, id_len, value, value_len);
    return true;
}
