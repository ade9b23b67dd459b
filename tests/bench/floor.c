/* floor: the least a server of the todo protocol can cost per request on
 * Linux, the yardstick make bench measures v0.7-select against.
 *
 * One thread, one epoll loop, and v0.7-select's own framing, list and
 * replies: it is built with that stage's line.c, request.c, todo.c and
 * net.c, so it has the same command line and answers the same bytes. What
 * v0.7 pays above it is the price of select() and of its loop: the sets
 * rebuilt and scanned on every turn, the idle-timeout scans, the log lines.
 * epoll is told once which descriptors to watch and hands back only those
 * that are ready. No idle timeout, no log: a yardstick, not a stage. */
#define _POSIX_C_SOURCE 200809L
#define _GNU_SOURCE /* accept4, epoll: Linux's, not POSIX's */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "line.h"
#include "net.h"
#include "request.h"
#include "todo.h"

#define OUTPUT_MAX 4096 /* bytes of replies a client may have waiting */

struct client {
    int fd;
    struct line_buffer in;  /* read, not yet answered */
    char out[OUTPUT_MAX];   /* answered, not yet sent */
    size_t out_len;
    uint32_t watching;      /* EPOLLIN, or EPOLLOUT while replies wait */
};

static struct todo_list todo;
static int epoll_fd;

static void watch(struct client *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};

    if (c->watching != events &&
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
        perror("epoll_ctl");
    c->watching = events;
}

static void add_client(int fd)
{
    struct client *c = malloc(sizeof *c);
    struct epoll_event ev = {.events = EPOLLIN};

    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    line_init(&c->in);
    c->out_len = 0;
    c->watching = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == -1) {
        perror("epoll_ctl");
        close(fd);
        free(c);
    }
}

static void drop_client(struct client *c)
{
    close(c->fd); /* which also takes it out of the epoll set */
    free(c);
}

static void accept_clients(int listener)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd != -1) {
            add_client(fd);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE) {
            /* Out of descriptors: pause rather than spin on the backlog. */
            struct timespec pause = {0, 100 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        if (errno != EINTR && errno != ECONNABORTED)
            return;
    }
}

/* Answers the requests that have come and writes the replies, until none
 * is left or the socket is full; while replies wait, reading stops, so
 * what a client that does not read can make us hold stays bounded. */
static void serve(struct client *c, bool closing)
{
    struct line request;

    for (;;) {
        while (OUTPUT_MAX - c->out_len >= REPLY_MAX && line_next(&c->in, &request))
            c->out_len += answer(&todo, &request, c->out + c->out_len);
        if (c->out_len == 0)
            break;
        ssize_t n = write(c->fd, c->out, c->out_len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n == -1) {
            drop_client(c);
            return;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    if (closing && c->out_len == 0) {
        drop_client(c);
        return;
    }
    watch(c, c->out_len > 0 ? EPOLLOUT : EPOLLIN);
}

static void on_event(struct client *c, uint32_t events)
{
    ssize_t n = 0;

    if (c->watching == EPOLLIN && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        n = line_read(&c->in, c->fd);
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n == -1) {
            drop_client(c);
            return;
        }
    }
    serve(c, n == 0 && c->watching == EPOLLIN);
}

int main(int argc, char **argv)
{
    struct options opts;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int listener;

    parse_options(argc, argv, &opts);
    todo_init(&todo);
    signal(SIGPIPE, SIG_IGN);
    listener = open_listener(&opts);
    if (fcntl(listener, F_SETFL, O_NONBLOCK) == -1 ||
        (epoll_fd = epoll_create1(0)) == -1 ||
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &ev) == -1) {
        perror("floor");
        return 1;
    }
    for (;;) {
        struct epoll_event events[256];
        int n = epoll_wait(epoll_fd, events, 256, -1);

        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL)
                accept_clients(listener);
            else
                on_event(events[i].data.ptr, events[i].events);
        }
    }
}
