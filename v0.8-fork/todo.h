/* The todo list: a fixed array of tasks, so memory stays bounded whatever
 * clients send. Ids and values are bytes, compared exactly. */
#ifndef TODO_H
#define TODO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define TODO_CAPACITY 1024 /* tasks */
#define TODO_ID_MAX 64     /* bytes in a task_id */
#define TODO_VALUE_MAX 256 /* bytes in a value */

struct task {
    char id[TODO_ID_MAX];
    size_t id_len;
    char value[TODO_VALUE_MAX];
    size_t value_len;
};

/* A child may die at any instant of a change, and the kernel then lets the
 * lock go with the change half made. So each task is kept twice: readers
 * see copy[current], a change fills the other copy, and one store of
 * current makes it the task. */
struct slot {
    struct task copy[2];
    atomic_size_t current; /* 0 or 1 */
};

struct todo_list {
    atomic_size_t count;              /* a slot is filled before it counts */
    struct slot slots[TODO_CAPACITY]; /* in the order they were added */
};

/* Starts the list with the article's three tasks. */
void todo_init(struct todo_list *list);

/* The task whose id is these id_len bytes, or NULL. */
const struct task *todo_get(const struct todo_list *list, const char *id,
                            size_t id_len);

/* Stores value under id: a new task at the end, or a new value for the
 * task that has this id. Stores nothing and returns false if the id is new
 * and the list is full, or if the id is empty or the id or value too long. */
bool todo_put(struct todo_list *list, const char *id, size_t id_len,
              const char *value, size_t value_len);

#endif
