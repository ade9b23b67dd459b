/* Line framing (line.c, v0.4 on): requests are cut at '\n' however their
 * bytes arrive. Bytes go in through a real socket, as they do in a server. */
#define _POSIX_C_SOURCE 200809L

#include "suites.h"

#ifdef FEATURE_todo

#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "line.h"
#include "net.h"

struct taken {
    char text[REQUEST_MAX + 1];
    size_t len;
    bool too_long;
};

static int fds[2];
static struct line_buffer lines;
static struct taken taken[64];
static size_t ntaken;

static void setup(void)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    line_init(&lines);
    ntaken = 0;
}

static void teardown(void)
{
    close(fds[0]);
    close(fds[1]);
}

static void take_whole_requests(void)
{
    struct line line;

    while (line_next(&lines, &line)) {
        ck_assert_uint_lt(ntaken, 64);
        ck_assert_uint_le(line.len, REQUEST_MAX);
        memcpy(taken[ntaken].text, line.text, line.len);
        taken[ntaken].len = line.len;
        taken[ntaken].too_long = line.too_long;
        ntaken++;
    }
}

/* Sends len bytes in pieces of piece bytes; after each piece, reads it all
 * and takes every whole request out. */
static void arrive(const char *bytes, size_t len, size_t piece)
{
    for (size_t sent = 0; sent < len; sent += piece) {
        size_t n = len - sent < piece ? len - sent : piece;
        ck_assert_int_eq(write_all(fds[0], bytes + sent, n), 0);
        for (size_t got = 0; got < n;) {
            ssize_t r = line_read(&lines, fds[1]);
            ck_assert_int_gt(r, 0);
            got += (size_t)r;
            take_whole_requests();
        }
    }
}

static void arrive_text(const char *text, size_t piece)
{
    arrive(text, strlen(text), piece);
}

static void assert_taken(size_t i, const char *text, size_t len)
{
    ck_assert_uint_gt(ntaken, i);
    ck_assert(!taken[i].too_long);
    ck_assert_uint_eq(taken[i].len, len);
    ck_assert_mem_eq(taken[i].text, text, len);
}

static void assert_taken_text(size_t i, const char *text)
{
    assert_taken(i, text, strlen(text));
}

START_TEST(a_request_in_one_piece)
{
    arrive_text("GET/task_01/status\n", 100);
    ck_assert_uint_eq(ntaken, 1);
    assert_taken_text(0, "GET/task_01/status");
}
END_TEST

START_TEST(a_request_byte_by_byte)
{
    arrive_text("GET/task_01/statu", 1);
    ck_assert_uint_eq(ntaken, 0); /* no '\n' yet: no request */
    arrive_text("s\n", 1);
    ck_assert_uint_eq(ntaken, 1);
    assert_taken_text(0, "GET/task_01/status");
}
END_TEST

START_TEST(several_requests_in_one_read)
{
    arrive_text("a\nbb\n\nccc\n", 100);
    ck_assert_uint_eq(ntaken, 4);
    assert_taken_text(0, "a");
    assert_taken_text(1, "bb");
    assert_taken_text(2, "");
    assert_taken_text(3, "ccc");
}
END_TEST

START_TEST(crlf_and_lf_both_end_a_request)
{
    arrive_text("a\r\nb\nc\r\n", 100);
    ck_assert_uint_eq(ntaken, 3);
    assert_taken_text(0, "a");
    assert_taken_text(1, "b");
    assert_taken_text(2, "c");
}
END_TEST

START_TEST(only_one_cr_before_the_lf_is_dropped)
{
    arrive_text("a\r\r\nb\rc\n\r\n", 100);
    ck_assert_uint_eq(ntaken, 3);
    assert_taken_text(0, "a\r");
    assert_taken_text(1, "b\rc");
    assert_taken_text(2, "");
}
END_TEST

START_TEST(bytes_after_the_last_newline_wait_for_the_rest)
{
    arrive_text("one\ntw", 100);
    ck_assert_uint_eq(ntaken, 1);
    arrive_text("o\n", 100);
    ck_assert_uint_eq(ntaken, 2);
    assert_taken_text(1, "two");
}
END_TEST

START_TEST(a_nul_byte_stays_in_the_request)
{
    arrive("a\0b\n", 4, 100);
    ck_assert_uint_eq(ntaken, 1);
    assert_taken(0, "a\0b", 3);
}
END_TEST

/* A request of len bytes ("x" * len), then its ending, then "next\n". */
static void arrive_long(size_t len, const char *ending, size_t piece)
{
    static char request[3 * REQUEST_MAX];

    memset(request, 'x', len);
    strcpy(request + len, ending);
    strcat(request, "next\n");
    arrive_text(request, piece);
}

START_TEST(a_request_of_1024_bytes_is_whole)
{
    static char x[REQUEST_MAX];

    memset(x, 'x', sizeof x);
    arrive_long(REQUEST_MAX, "\n", 4096);
    ck_assert_uint_eq(ntaken, 2);
    assert_taken(0, x, REQUEST_MAX);
    assert_taken_text(1, "next");
}
END_TEST

START_TEST(the_cr_counts_toward_1024_bytes)
{
    arrive_long(REQUEST_MAX - 1, "\r\n", 4096);
    ck_assert_uint_eq(ntaken, 2);
    ck_assert(!taken[0].too_long);
    ck_assert_uint_eq(taken[0].len, REQUEST_MAX - 1);
    line_init(&lines);
    ntaken = 0;
    arrive_long(REQUEST_MAX, "\r\n", 4096);
    ck_assert_uint_eq(ntaken, 2);
    ck_assert(taken[0].too_long);
}
END_TEST

START_TEST(a_request_of_1025_bytes_is_too_long_and_the_next_one_is_whole)
{
    arrive_long(REQUEST_MAX + 1, "\n", 4096);
    ck_assert_uint_eq(ntaken, 2);
    ck_assert(taken[0].too_long);
    ck_assert_uint_eq(taken[0].len, 0);
    assert_taken_text(1, "next");
}
END_TEST

START_TEST(a_very_long_request_in_small_pieces_is_one_too_long_request)
{
    arrive_long(3 * REQUEST_MAX - 10, "\n", 100);
    ck_assert_uint_eq(ntaken, 2);
    ck_assert(taken[0].too_long);
    assert_taken_text(1, "next");
}
END_TEST

START_TEST(end_of_stream_reads_0_and_leaves_the_unfinished_request_unanswered)
{
    arrive_text("whole\nhalf", 100);
    shutdown(fds[0], SHUT_WR);
    ck_assert_int_eq(line_read(&lines, fds[1]), 0);
    take_whole_requests();
    ck_assert_uint_eq(ntaken, 1);
}
END_TEST

Suite *line_suite(void)
{
    Suite *s = suite_create("line");
    TCase *tc = tcase_create("framing");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_request_in_one_piece);
    tcase_add_test(tc, a_request_byte_by_byte);
    tcase_add_test(tc, several_requests_in_one_read);
    tcase_add_test(tc, crlf_and_lf_both_end_a_request);
    tcase_add_test(tc, only_one_cr_before_the_lf_is_dropped);
    tcase_add_test(tc, bytes_after_the_last_newline_wait_for_the_rest);
    tcase_add_test(tc, a_nul_byte_stays_in_the_request);
    tcase_add_test(tc, a_request_of_1024_bytes_is_whole);
    tcase_add_test(tc, the_cr_counts_toward_1024_bytes);
    tcase_add_test(tc, a_request_of_1025_bytes_is_too_long_and_the_next_one_is_whole);
    tcase_add_test(tc, a_very_long_request_in_small_pieces_is_one_too_long_request);
    tcase_add_test(tc, end_of_stream_reads_0_and_leaves_the_unfinished_request_unanswered);
    suite_add_tcase(s, tc);
    return s;
}

#endif
