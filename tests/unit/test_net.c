/* net.c, which every stage shares: the full-write loop, the read that
 * survives signals, and the command line. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "suites.h"

#define BIG (4 << 20)

static void on_alarm(int sig)
{
    (void)sig;
}

/* SIGALRM every millisecond, without SA_RESTART: a blocked read or write
 * is interrupted, and returns EINTR or a short count. */
static void interrupt_often(void)
{
    struct sigaction sa;
    struct itimerval every = {{0, 1000}, {0, 1000}};

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
}

static void small_socketpair(int fds[2])
{
    int size = 4096;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 7 + i / 251);
}

/* Reads BIG bytes in small pieces; returns how many matched the pattern. */
static void *read_pattern(void *arg)
{
    int fd = *(int *)arg;
    size_t good = 0;
    unsigned char buf[1000];
    ssize_t n;

    while (good < BIG && (n = read_some(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++, good++)
            if (buf[i] != pattern(good))
                return (void *)good;
    }
    return (void *)good;
}

START_TEST(write_all_delivers_every_byte_through_a_small_buffer_and_signals)
{
    int fds[2];
    pthread_t reader;
    unsigned char *data = malloc(BIG);
    void *matched;

    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < BIG; i++)
        data[i] = pattern(i);
    small_socketpair(fds);
    ck_assert_int_eq(pthread_create(&reader, NULL, read_pattern, &fds[1]), 0);
    interrupt_often();
    ck_assert_int_eq(write_all(fds[0], data, BIG), 0);
    close(fds[0]);
    ck_assert_int_eq(pthread_join(reader, &matched), 0);
    ck_assert_uint_eq((size_t)matched, BIG);
    free(data);
}
END_TEST

START_TEST(write_all_of_nothing_writes_nothing)
{
    int fds[2];
    char c;

    small_socketpair(fds);
    ck_assert_int_eq(write_all(fds[0], "", 0), 0);
    close(fds[0]);
    ck_assert_int_eq(read(fds[1], &c, 1), 0);
}
END_TEST

START_TEST(write_all_to_a_closed_peer_fails_with_EPIPE)
{
    int fds[2];

    signal(SIGPIPE, SIG_IGN);
    small_socketpair(fds);
    close(fds[1]);
    ck_assert_int_eq(write_all(fds[0], "lost", 4), -1);
    ck_assert_int_eq(errno, EPIPE);
}
END_TEST

START_TEST(read_some_returns_what_has_arrived_without_waiting_for_more)
{
    int fds[2];
    char buf[100];

    small_socketpair(fds);
    ck_assert_int_eq(write_all(fds[0], "abc", 3), 0);
    ck_assert_int_eq(read_some(fds[1], buf, sizeof buf), 3);
    ck_assert_mem_eq(buf, "abc", 3);
}
END_TEST

static void *read_one_byte(void *arg)
{
    char c;

    return (void *)read_some(*(int *)arg, &c, 1);
}

START_TEST(read_some_waits_on_through_signals)
{
    int fds[2];
    pthread_t reader;
    sigset_t alarm;
    void *got;

    small_socketpair(fds);
    interrupt_often();
    ck_assert_int_eq(pthread_create(&reader, NULL, read_one_byte, &fds[1]), 0);
    sigemptyset(&alarm);
    sigaddset(&alarm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alarm, NULL); /* now the signals hit the reader */
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    ck_assert_int_eq(write_all(fds[0], "x", 1), 0);
    ck_assert_int_eq(pthread_join(reader, &got), 0);
    ck_assert_int_eq((ssize_t)got, 1);
}
END_TEST

static bool same_file(int fd, const struct stat *file)
{
    struct stat st;

    return fstat(fd, &st) == 0 && st.st_dev == file->st_dev &&
           st.st_ino == file->st_ino;
}

/* Check runs each test in a process of its own: closing 0 and 2 here
 * touches nothing else. */
START_TEST(reserve_standard_descriptors_puts_dev_null_on_the_closed_ones)
{
    struct stat dev_null, out;

    ck_assert_int_eq(stat("/dev/null", &dev_null), 0);
    ck_assert_int_eq(fstat(1, &out), 0);
    close(0);
    close(2);
    reserve_standard_descriptors();
    ck_assert(same_file(0, &dev_null));
    ck_assert(same_file(1, &out));
    ck_assert(same_file(2, &dev_null));
}
END_TEST

/* parse_options with these arguments and IDLE_TIMEOUT (NULL: unset). */
static struct options parse(const char *a1, const char *a2, const char *idle)
{
    char *argv[] = {"server", (char *)a1, (char *)a2, NULL};
    int argc = a1 == NULL ? 1 : a2 == NULL ? 2 : 3;
    struct options opts;

    if (idle != NULL)
        setenv("IDLE_TIMEOUT", idle, 1);
    else
        unsetenv("IDLE_TIMEOUT");
    freopen("/dev/null", "w", stderr);
    parse_options(argc, argv, &opts);
    return opts;
}

START_TEST(options_default_to_port_9000_on_127_0_0_1_and_60_seconds)
{
    struct options opts = parse(NULL, NULL, NULL);

    ck_assert_str_eq(opts.port, "9000");
    ck_assert_str_eq(opts.address, "127.0.0.1");
    ck_assert_int_eq(opts.idle_timeout, 60);
}
END_TEST

START_TEST(options_take_port_address_and_idle_timeout)
{
    struct options opts = parse("65535", "::1", "1");

    ck_assert_str_eq(opts.port, "65535");
    ck_assert_str_eq(opts.address, "::1");
    ck_assert_int_eq(opts.idle_timeout, 1);
}
END_TEST

static const char *bad_ports[] = {
    "", "+80", " 80", "80 ", "0x50", "-1", "65536", "99999999999999999999",
};

START_TEST(bad_port_exits_2)
{
    parse(bad_ports[_i], NULL, NULL);
}
END_TEST

static const char *bad_addresses[] = {
    "", "localhost", "1.2.3.4.5", "::1::2", "256.0.0.1",
    "0", "127.1", "0x7f000001", "01.02.03.04", /* inet_aton's old forms */
};

START_TEST(bad_address_exits_2)
{
    parse("0", bad_addresses[_i], NULL);
}
END_TEST

START_TEST(options_take_the_addresses_of_every_interface)
{
    ck_assert_str_eq(parse("0", "0.0.0.0", NULL).address, "0.0.0.0");
    ck_assert_str_eq(parse("0", "::", NULL).address, "::");
}
END_TEST

static const char *bad_idle_timeouts[] = {"", "0", "-1", "1.5", " 5", "abc",
                                          "2592001"};

START_TEST(bad_idle_timeout_exits_2)
{
    parse("0", NULL, bad_idle_timeouts[_i]);
}
END_TEST

START_TEST(help_exits_0)
{
    freopen("/dev/null", "w", stdout);
    parse("--help", NULL, NULL);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *io = tcase_create("io");
    TCase *options = tcase_create("options");

    tcase_add_test(io, write_all_delivers_every_byte_through_a_small_buffer_and_signals);
    tcase_add_test(io, write_all_of_nothing_writes_nothing);
    tcase_add_test(io, write_all_to_a_closed_peer_fails_with_EPIPE);
    tcase_add_test(io, read_some_returns_what_has_arrived_without_waiting_for_more);
    tcase_add_test(io, read_some_waits_on_through_signals);
    tcase_add_test(io, reserve_standard_descriptors_puts_dev_null_on_the_closed_ones);
    suite_add_tcase(s, io);

    tcase_add_test(options, options_default_to_port_9000_on_127_0_0_1_and_60_seconds);
    tcase_add_test(options, options_take_port_address_and_idle_timeout);
    tcase_add_loop_exit_test(options, bad_port_exits_2, 2, 0,
                             sizeof bad_ports / sizeof bad_ports[0]);
    tcase_add_loop_exit_test(options, bad_address_exits_2, 2, 0,
                             sizeof bad_addresses / sizeof bad_addresses[0]);
    tcase_add_test(options, options_take_the_addresses_of_every_interface);
    tcase_add_loop_exit_test(options, bad_idle_timeout_exits_2, 2, 0,
                             sizeof bad_idle_timeouts / sizeof bad_idle_timeouts[0]);
    tcase_add_exit_test(options, help_exits_0, 0);
    suite_add_tcase(s, options);
    return s;
}
