/* What a request means (request.c, v0.4 on): the parser and the reply every
 * shape of request gets. */
#define _POSIX_C_SOURCE 200809L

#include "suites.h"

#ifdef FEATURE_todo

#include <stdio.h>
#include <string.h>

#include "request.h"

static struct todo_list list;
static char reply[REPLY_MAX + 1];

static void setup(void)
{
    todo_init(&list);
}

/* The reply to the len bytes at text, with its "\r\n" checked and cut. */
static const char *reply_to_bytes(const char *text, size_t len, bool too_long)
{
    struct line line = {text, len, too_long};
    size_t n = answer(&list, &line, reply);

    ck_assert_uint_ge(n, 2);
    ck_assert_uint_le(n, REPLY_MAX);
    ck_assert_mem_eq(reply + n - 2, "\r\n", 2);
    reply[n - 2] = '\0';
    return reply;
}

static const char *reply_to(const char *text)
{
    return reply_to_bytes(text, strlen(text), false);
}

#ifdef FEATURE_list
static const char *anything[] = {"", "anything", "GET/task_01/status", "\r"};

START_TEST(every_request_gets_the_whole_list)
{
    ck_assert_str_eq(reply_to(anything[_i]),
                     "{'task_01': 'see someone', 'task_02': 'read book', "
                     "'task_03': 'play basketball'}");
}
END_TEST

START_TEST(a_too_long_request_gets_the_list_too)
{
    ck_assert_str_eq(reply_to_bytes("", 0, true),
                     "{'task_01': 'see someone', 'task_02': 'read book', "
                     "'task_03': 'play basketball'}");
}
END_TEST
#endif

#ifdef FEATURE_get
static void assert_error(const char *reply, const char *names)
{
    ck_assert_msg(strncmp(reply, "error: ", 7) == 0, "not an error: %s", reply);
    ck_assert_msg(strstr(reply, names) != NULL, "'%s' does not say '%s'",
                  reply, names);
}

START_TEST(get_answers_the_value_of_the_task)
{
    ck_assert_str_eq(reply_to("GET/task_01/status"), "see someone");
    ck_assert_str_eq(reply_to("GET/task_03/x"), "play basketball");
}
END_TEST

START_TEST(get_with_an_empty_status_is_a_get)
{
    ck_assert_str_eq(reply_to("GET/task_02/"), "read book");
}
END_TEST

START_TEST(get_of_an_unknown_task_answers_no_key_match)
{
    ck_assert_str_eq(reply_to("GET/task_99/status"), "no key match");
    ck_assert_str_eq(reply_to("GET/TASK_01/status"), "no key match");
}
END_TEST

static const char *bad_gets[] = {
    "GET", "GET/", "GET//", "GET/task_01", "GET//status",
    "GET/task_01/status/more", "GET/task_01/status/",
};

START_TEST(get_in_a_wrong_shape_answers_an_error_naming_the_form)
{
    assert_error(reply_to(bad_gets[_i]), "GET/<task_id>/<status>");
}
END_TEST

static const char *unknown[] = {
    "", "hello", "G", "get/task_01/status", "GETX/task_01/status",
    " GET/task_01/status", "xGET/task_01/status", "DELETE/task_01/status",
#ifndef FEATURE_post
    "POST/task_04=write code/status",
#endif
};

START_TEST(an_unknown_method_answers_data_no_found)
{
    ck_assert_str_eq(reply_to(unknown[_i]), "data no found");
}
END_TEST

START_TEST(parse_takes_the_task_id_out_of_a_get)
{
    struct line line = {"GET/task_01/status", 18, false};
    struct request req;

    parse_request(&line, &req);
    ck_assert_int_eq(req.kind, REQUEST_GET);
    ck_assert_uint_eq(req.id_len, 7);
    ck_assert_mem_eq(req.id, "task_01", 7);
}
END_TEST
#endif

#ifdef FEATURE_limits
START_TEST(a_too_long_request_answers_an_error)
{
    assert_error(reply_to_bytes("", 0, true), "longer than 1024 bytes");
}
END_TEST

START_TEST(a_request_with_a_nul_byte_answers_an_error)
{
    assert_error(reply_to_bytes("GET/task_01/st\0tus", 18, false), "NUL");
    assert_error(reply_to_bytes("GET/task\0_01/status", 19, false), "NUL");
}
END_TEST

START_TEST(a_task_id_of_64_bytes_is_looked_up_and_65_answers_an_error)
{
    char request[100];

    snprintf(request, sizeof request, "GET/%064d/s", 0);
    ck_assert_str_eq(reply_to(request), "no key match");
    snprintf(request, sizeof request, "GET/%065d/s", 0);
    assert_error(reply_to(request), "task_id longer than 64 bytes");
}
END_TEST
#endif

#ifdef FEATURE_post
START_TEST(post_answers_submit_success_and_a_get_then_sees_it)
{
    ck_assert_str_eq(reply_to("POST/task_04=write code/status"), "submit success");
    ck_assert_str_eq(reply_to("GET/task_04/x"), "write code");
}
END_TEST

START_TEST(post_replaces_the_value_of_a_task)
{
    ck_assert_str_eq(reply_to("POST/task_01=see no one/s"), "submit success");
    ck_assert_str_eq(reply_to("GET/task_01/s"), "see no one");
    ck_assert_uint_eq(list.count, 3);
}
END_TEST

START_TEST(post_with_an_empty_value_or_status_stores_it)
{
    ck_assert_str_eq(reply_to("POST/task_01=/"), "submit success");
    ck_assert_str_eq(reply_to("GET/task_01/s"), "");
}
END_TEST

static const char *bad_posts[] = {
    "POST", "POST/", "POST//", "POST/task_04=x", "POST/task_04/status",
    "POST/=x/status", "POST/task_04=x=y/status", "POST/task_04=x/status/more",
    "POST/task_04/=x/status",
};

START_TEST(post_in_a_wrong_shape_answers_an_error_and_stores_nothing)
{
    assert_error(reply_to(bad_posts[_i]), "POST/<task_id>=<value>/<status>");
    ck_assert_uint_eq(list.count, 3);
}
END_TEST

START_TEST(post_parses_the_task_id_and_the_value)
{
    struct line line = {"POST/a b=c d/s", 14, false};
    struct request req;

    parse_request(&line, &req);
    ck_assert_int_eq(req.kind, REQUEST_POST);
    ck_assert_uint_eq(req.id_len, 3);
    ck_assert_mem_eq(req.id, "a b", 3);
    ck_assert_uint_eq(req.value_len, 3);
    ck_assert_mem_eq(req.value, "c d", 3);
}
END_TEST

START_TEST(post_of_a_value_of_257_bytes_answers_an_error_and_256_is_stored)
{
    char request[400];

    snprintf(request, sizeof request, "POST/k=%0257d/s", 0);
    assert_error(reply_to(request), "value longer than 256 bytes");
    ck_assert_uint_eq(list.count, 3);
    snprintf(request, sizeof request, "POST/k=%0256d/s", 0);
    ck_assert_str_eq(reply_to(request), "submit success");
}
END_TEST

START_TEST(post_of_a_task_id_of_65_bytes_answers_an_error)
{
    char request[100];

    snprintf(request, sizeof request, "POST/%065d=v/s", 0);
    assert_error(reply_to(request), "task_id longer than 64 bytes");
    ck_assert_uint_eq(list.count, 3);
}
END_TEST

START_TEST(post_of_a_new_task_to_a_full_list_answers_an_error)
{
    char request[64];

    while (list.count < TODO_CAPACITY) {
        snprintf(request, sizeof request, "POST/k%zu=v/s", list.count);
        ck_assert_str_eq(reply_to(request), "submit success");
    }
    assert_error(reply_to("POST/one_more=v/s"), "full");
    ck_assert_str_eq(reply_to("POST/task_01=v/s"), "submit success");
}
END_TEST
#endif

#define LOOP(tc, test, array) \
    tcase_add_loop_test(tc, test, 0, (int)(sizeof array / sizeof array[0]))

Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("answer");

    tcase_add_checked_fixture(tc, setup, NULL);
#ifdef FEATURE_list
    LOOP(tc, every_request_gets_the_whole_list, anything);
    tcase_add_test(tc, a_too_long_request_gets_the_list_too);
#endif
#ifdef FEATURE_get
    tcase_add_test(tc, get_answers_the_value_of_the_task);
    tcase_add_test(tc, get_with_an_empty_status_is_a_get);
    tcase_add_test(tc, get_of_an_unknown_task_answers_no_key_match);
    LOOP(tc, get_in_a_wrong_shape_answers_an_error_naming_the_form, bad_gets);
    LOOP(tc, an_unknown_method_answers_data_no_found, unknown);
    tcase_add_test(tc, parse_takes_the_task_id_out_of_a_get);
#endif
#ifdef FEATURE_limits
    tcase_add_test(tc, a_too_long_request_answers_an_error);
    tcase_add_test(tc, a_request_with_a_nul_byte_answers_an_error);
    tcase_add_test(tc, a_task_id_of_64_bytes_is_looked_up_and_65_answers_an_error);
#endif
#ifdef FEATURE_post
    tcase_add_test(tc, post_answers_submit_success_and_a_get_then_sees_it);
    tcase_add_test(tc, post_replaces_the_value_of_a_task);
    tcase_add_test(tc, post_with_an_empty_value_or_status_stores_it);
    LOOP(tc, post_in_a_wrong_shape_answers_an_error_and_stores_nothing, bad_posts);
    tcase_add_test(tc, post_parses_the_task_id_and_the_value);
    tcase_add_test(tc, post_of_a_value_of_257_bytes_answers_an_error_and_256_is_stored);
    tcase_add_test(tc, post_of_a_task_id_of_65_bytes_answers_an_error);
    tcase_add_test(tc, post_of_a_new_task_to_a_full_list_answers_an_error);
#endif
    suite_add_tcase(s, tc);
    return s;
}

#endif
