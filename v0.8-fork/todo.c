/* The todo list, changed so that a process killed at any instant leaves it
 * as it was before the change or as it is after it, never between. */
#define _POSIX_C_SOURCE 200809L

#include "todo.h"

#include <string.h>

#ifdef CRASH_POINTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Test builds only: when the file named by $CRASH_AT holds a number N, the
 * next change to reach step N empties the file and kills its process there,
 * as a crash at that instant would. */
static void step(int n)
{
    const char *path = getenv("CRASH_AT");
    FILE *file = path != NULL ? fopen(path, "r") : NULL;
    int at;

    if (file == NULL)
        return;
    if (fscanf(file, "%d", &at) != 1)
        at = 0;
    fclose(file);
    if (at == n && truncate(path, 0) == 0)
        raise(SIGKILL);
}
#else
#define step(n) ((void)0)
#endif

static void set_task(struct task *task, const char *id, size_t id_len,
                     const char *value, size_t value_len)
{
    step(1);
    memcpy(task->id, id, id_len);
    step(2);
    task->id_len = id_len;
    step(3);
    memcpy(task->value, value, value_len);
    step(4);
    task->value_len = value_len;
}

/* Makes a change seen with one store, which no crash can cut in two, and
 * which the compiler may not move before the stores that made the change
 * (release): a crash before it leaves the change unseen, after it whole. */
static void publish(atomic_size_t *where, size_t value)
{
    step(5);
    atomic_store_explicit(where, value, memory_order_release);
    step(6);
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
        todo_put(list, first[i][0], strlen(first[i][0]), first[i][1],
                 strlen(first[i][1]));
    }
}

/* The task that readers see in slot i. */
static const struct task *task_at(const struct todo_list *list, size_t i)
{
    const struct slot *slot = &list->slots[i];

    return &slot->copy[slot->current];
}

/* The index of the task with this id, or list->count if there is none. */
static size_t find(const struct todo_list *list, const char *id, size_t id_len)
{
    size_t i;

    for (i = 0; i < list->count; i++) {
        const struct task *task = task_at(list, i);
        if (task->id_len == id_len && memcmp(task->id, id, id_len) == 0)
            break;
    }
    return i;
}

const struct task *todo_get(const struct todo_list *list, const char *id,
                            size_t id_len)
{
    size_t i = find(list, id, id_len);

    return i < list->count ? task_at(list, i) : NULL;
}

bool todo_put(struct todo_list *list, const char *id, size_t id_len,
              const char *value, size_t value_len)
{
    size_t i = find(list, id, id_len);
    struct slot *slot;

    if (id_len == 0 || id_len > TODO_ID_MAX || value_len > TODO_VALUE_MAX)
        return false;
    if (i == TODO_CAPACITY)
        return false;
    slot = &list->slots[i];
    if (i == list->count) {
        /* A new task: no one reads past count, so fill the slot, then
         * count it. */
        slot->current = 0;
        set_task(&slot->copy[0], id, id_len, value, value_len);
        publish(&list->count, i + 1);
    } else {
        /* A new value: fill the copy no one reads, then switch to it. */
        size_t other = 1 - slot->current;
        set_task(&slot->copy[other], id, id_len, value, value_len);
        publish(&slot->current, other);
    }
    return true;
}
