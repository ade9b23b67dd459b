/* The todo list (todo.c, v0.4 on): its three first tasks, lookups, stores,
 * and the limits that keep its memory bounded. */
#define _POSIX_C_SOURCE 200809L

#include "suites.h"

#ifdef FEATURE_todo

#include <stdio.h>
#include <string.h>

#include "todo.h"

static struct todo_list list;

static void setup(void)
{
    memset(&list, 0xAA, sizeof list); /* no zeroed memory to lean on */
    todo_init(&list);
}

/* The i-th task, as readers see it. */
static const struct task *task_at(size_t i)
{
#ifdef FEATURE_fork /* v0.8 keeps each task twice: see todo.h */
    return &list.slots[i].copy[list.slots[i].current];
#else
    return &list.tasks[i];
#endif
}

static void assert_task(size_t i, const char *id, const char *value)
{
    const struct task *task = task_at(i);

    ck_assert_uint_eq(task->id_len, strlen(id));
    ck_assert_mem_eq(task->id, id, task->id_len);
    ck_assert_uint_eq(task->value_len, strlen(value));
    ck_assert_mem_eq(task->value, value, task->value_len);
}

START_TEST(starts_with_the_three_tasks_of_the_article_in_order)
{
    ck_assert_uint_eq(list.count, 3);
    assert_task(0, "task_01", "see someone");
    assert_task(1, "task_02", "read book");
    assert_task(2, "task_03", "play basketball");
}
END_TEST

#ifdef FEATURE_list
START_TEST(format_writes_the_list_as_the_article_prints_it)
{
    const char *expected = "{'task_01': 'see someone', 'task_02': 'read book', "
                           "'task_03': 'play basketball'}";
    char text[200];
    size_t len = todo_format(&list, text, sizeof text);

    ck_assert_uint_eq(len, strlen(expected));
    ck_assert_mem_eq(text, expected, len);
}
END_TEST

START_TEST(format_cuts_short_to_the_room_it_is_given)
{
    char text[16];

    memset(text, '#', sizeof text);
    ck_assert_uint_eq(todo_format(&list, text, 10), 10);
    ck_assert_mem_eq(text, "{'task_01'", 10);
    ck_assert_int_eq(text[10], '#'); /* nothing written past the room */
}
END_TEST
#endif

#ifdef FEATURE_get
static const char *get_value(const char *id)
{
    static char value[TODO_VALUE_MAX + 1];
    const struct task *task = todo_get(&list, id, strlen(id));

    if (task == NULL)
        return NULL;
    memcpy(value, task->value, task->value_len);
    value[task->value_len] = '\0';
    return value;
}

START_TEST(get_finds_a_task_by_its_exact_id)
{
    ck_assert_str_eq(get_value("task_02"), "read book");
}
END_TEST

START_TEST(get_of_an_unknown_id_finds_nothing)
{
    ck_assert_ptr_null(get_value("task_99"));
    ck_assert_ptr_null(get_value(""));
}
END_TEST

START_TEST(get_compares_bytes_exactly)
{
    ck_assert_ptr_null(get_value("TASK_01"));
    ck_assert_ptr_null(get_value("task_0"));
    ck_assert_ptr_null(get_value("task_011"));
    ck_assert_ptr_null(get_value("task_01 "));
}
END_TEST
#endif

#ifdef FEATURE_post
static bool put(const char *id, const char *value)
{
    return todo_put(&list, id, strlen(id), value, strlen(value));
}

START_TEST(put_adds_a_new_task_at_the_end)
{
    ck_assert(put("task_04", "write code"));
    ck_assert_uint_eq(list.count, 4);
    assert_task(3, "task_04", "write code");
}
END_TEST

START_TEST(put_replaces_the_value_of_a_task_in_place)
{
    ck_assert(put("task_02", "read another book"));
    ck_assert_uint_eq(list.count, 3);
    assert_task(1, "task_02", "read another book");
}
END_TEST

START_TEST(put_keeps_an_empty_value)
{
    ck_assert(put("task_01", ""));
    assert_task(0, "task_01", "");
    ck_assert_str_eq(get_value("task_01"), "");
}
END_TEST

START_TEST(put_refuses_an_empty_id)
{
    ck_assert(!put("", "nothing"));
    ck_assert_uint_eq(list.count, 3);
}
END_TEST

START_TEST(put_takes_ids_of_64_bytes_and_refuses_65)
{
    char id[TODO_ID_MAX + 2];

    memset(id, 'i', sizeof id - 1);
    id[TODO_ID_MAX + 1] = '\0';
    ck_assert(!put(id, "too long"));
    id[TODO_ID_MAX] = '\0';
    ck_assert(put(id, "fits"));
    ck_assert_uint_eq(list.count, 4);
}
END_TEST

START_TEST(put_takes_values_of_256_bytes_and_refuses_257)
{
    char value[TODO_VALUE_MAX + 2];

    memset(value, 'v', sizeof value - 1);
    value[TODO_VALUE_MAX + 1] = '\0';
    ck_assert(!put("task_01", value));
    assert_task(0, "task_01", "see someone");
    value[TODO_VALUE_MAX] = '\0';
    ck_assert(put("task_01", value));
    assert_task(0, "task_01", value);
}
END_TEST

START_TEST(put_refuses_a_new_task_when_full_but_still_replaces)
{
    char id[16];

    for (size_t i = list.count; i < TODO_CAPACITY; i++) {
        snprintf(id, sizeof id, "k%zu", i);
        ck_assert(put(id, "v"));
    }
    ck_assert_uint_eq(list.count, TODO_CAPACITY);
    ck_assert(!put("one_too_many", "v"));
    ck_assert_uint_eq(list.count, TODO_CAPACITY);
    ck_assert_ptr_null(get_value("one_too_many"));
    ck_assert(put("task_03", "still works"));
    ck_assert_str_eq(get_value("task_03"), "still works");
}
END_TEST

START_TEST(put_and_get_take_any_byte_in_an_id)
{
    ck_assert(todo_put(&list, "a\0b", 3, "nul inside", 10));
    ck_assert_ptr_null(todo_get(&list, "a", 1));
    ck_assert_ptr_nonnull(todo_get(&list, "a\0b", 3));
}
END_TEST
#endif

Suite *todo_suite(void)
{
    Suite *s = suite_create("todo");
    TCase *tc = tcase_create("list");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, starts_with_the_three_tasks_of_the_article_in_order);
#ifdef FEATURE_list
    tcase_add_test(tc, format_writes_the_list_as_the_article_prints_it);
    tcase_add_test(tc, format_cuts_short_to_the_room_it_is_given);
#endif
#ifdef FEATURE_get
    tcase_add_test(tc, get_finds_a_task_by_its_exact_id);
    tcase_add_test(tc, get_of_an_unknown_id_finds_nothing);
    tcase_add_test(tc, get_compares_bytes_exactly);
#endif
#ifdef FEATURE_post
    tcase_add_test(tc, put_adds_a_new_task_at_the_end);
    tcase_add_test(tc, put_replaces_the_value_of_a_task_in_place);
    tcase_add_test(tc, put_keeps_an_empty_value);
    tcase_add_test(tc, put_refuses_an_empty_id);
    tcase_add_test(tc, put_takes_ids_of_64_bytes_and_refuses_65);
    tcase_add_test(tc, put_takes_values_of_256_bytes_and_refuses_257);
    tcase_add_test(tc, put_refuses_a_new_task_when_full_but_still_replaces);
    tcase_add_test(tc, put_and_get_take_any_byte_in_an_id);
#endif
    suite_add_tcase(s, tc);
    return s;
}

#endif
