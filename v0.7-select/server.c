/* v0.7-select: one thread serves every client. A select() loop waits
 * until some socket can be read or written, then reads or writes it without
 * ever blocking. Nothing runs at the same time, so the list needs no lock.
 *
 * What still breaks: it is one process on one core, so a request that took
 * long would stall every client, and a crash would take them all down.
 * v0.8 gives each client a process of its own. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "line.h"
#include "net.h"
#include "request.h"
#include "todo.h"

#define OUTPUT_MAX 4096 /* bytes of replies a client may have waiting */
#define LOG_LINE_MAX 256 /* bytes in a log line, the count of dropped ones too */

/* The one thing every client shares. */
static struct todo_list todo;

/* A connection and everything the loop keeps for it between two events. */
struct client {
    int fd;
    struct line_buffer in;  /* read, not yet answered */
    char out[OUTPUT_MAX];   /* answered, not yet sent */
    size_t out_len;
    long long last_heard;   /* when a byte last came, in ms */
    bool closing;           /* it closed its side: send what it is owed, close */
};

/* Every connected client, by descriptor, and the highest descriptor among
 * them (-1 if none): what the loop scans. */
static struct client *clients[FD_SETSIZE];
static int highest = -1;

/* When to try accepting again after running out of descriptors, in ms. */
static long long accept_paused_until;

/* Log lines dropped since the last one written. */
static unsigned long dropped_lines;

static void stop(int sig)
{
    (void)sig;
    /* _exit is async-signal-safe, exit is not; the kernel closes every
     * socket we hold. */
    _exit(0);
}

static void handle_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* A write to a client that has gone away then fails with EPIPE,
     * instead of SIGPIPE killing the whole server. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Writes a line to the log (standard error) if it can take it now, and
 * drops it if not: a log that nobody reads, a pipe gone full, would stop
 * the whole loop in a blocking fprintf. The next line written says how many
 * were dropped. select() calls a pipe writable while one of its buffers (a
 * page) is free, on Linux, and a line is far shorter than PIPE_BUF: the
 * write takes it whole, at once. */
static void log_line(const char *format, ...)
{
    char line[LOG_LINE_MAX];
    fd_set writable;
    struct timeval now = {0, 0};
    va_list args;
    int len = 0;

    FD_ZERO(&writable);
    FD_SET(STDERR_FILENO, &writable);
    if (select(STDERR_FILENO + 1, NULL, &writable, NULL, &now) != 1) {
        dropped_lines++;
        return;
    }
    if (dropped_lines > 0)
        len = snprintf(line, sizeof line, "%lu log lines dropped\n", dropped_lines);
    va_start(args, format);
    len += vsnprintf(line + len, sizeof line - (size_t)len, format, args);
    va_end(args);
    if (len >= (int)sizeof line) {
        len = sizeof line;
        line[len - 1] = '\n'; /* cut short, still a line */
    }
    if (write(STDERR_FILENO, line, (size_t)len) == len)
        dropped_lines = 0;
    else
        dropped_lines++;
}

static long long now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A non-blocking socket never makes us wait: a read with nothing to read,
 * or a write with no room, fails at once with EAGAIN. */
static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
        log_line("fcntl O_NONBLOCK: %s\n", strerror(errno));
}

static void add_client(int fd)
{
    struct client *c = malloc(sizeof *c);

    if (c == NULL) {
        log_line("client %d: out of memory\n", fd);
        close(fd);
        return;
    }
    c->fd = fd;
    line_init(&c->in);
    c->out_len = 0;
    c->last_heard = now_ms();
    c->closing = false;
    set_nonblocking(fd);
    clients[fd] = c;
    if (fd > highest)
        highest = fd;
}

static void drop_client(struct client *c)
{
    log_line("client %d: closed\n", c->fd);
    clients[c->fd] = NULL;
    while (highest >= 0 && clients[highest] == NULL)
        highest--;
    close(c->fd);
    free(c);
}

/* Takes every connection that waits. A descriptor at or past FD_SETSIZE
 * cannot be watched: FD_SET would write past the end of the fd_set. */
static void accept_clients(int listener)
{
    struct sockaddr_storage addr;
    socklen_t len;
    char from[ADDRESS_TEXT_SIZE];

    for (;;) {
        len = sizeof addr;
        int fd = accept(listener, (struct sockaddr *)&addr, &len);
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                /* Out of descriptors, accept would fail at once for as
                 * long as a connection waits: pause instead of spinning. */
                log_line("accept: %s\n", strerror(errno));
                accept_paused_until = now_ms() + 100;
            }
            return;
        }
        format_address((struct sockaddr *)&addr, len, from, sizeof from);
        if (fd >= FD_SETSIZE) {
            log_line("client %d: from %s: over FD_SETSIZE\n", fd, from);
            write_all(fd, "error: server full\r\n", 20);
            close(fd);
            continue;
        }
        log_line("client %d: connected from %s\n", fd, from);
        add_client(fd);
    }
}

static void report(int client, const char *call)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        log_line("client %d: %s timed out (IDLE_TIMEOUT)\n", client, call);
    else
        log_line("client %d: %s: %s\n", client, call, strerror(errno));
}

/* Answers whole requests while their replies fit in the output buffer;
 * true if it stopped for lack of room. */
static bool answer_requests(struct client *c)
{
    struct line request;

    while (OUTPUT_MAX - c->out_len >= REPLY_MAX) {
        if (!line_next(&c->in, &request))
            return false;
        c->out_len += answer(&todo, &request, c->out + c->out_len);
    }
    return true;
}

/* Writes as much of the output as the socket takes now: a partial write is
 * the normal case. -1 if the connection is broken. */
static int send_replies(struct client *c)
{
    while (c->out_len > 0) {
        ssize_t n = write(c->fd, c->out, c->out_len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    return 0;
}

/* Answers and sends all it can; closes the client once it has left and
 * been sent everything it is owed. */
static void serve(struct client *c)
{
    bool full;

    do {
        full = answer_requests(c);
        if (send_replies(c) == -1) {
            report(c->fd, "write");
            drop_client(c);
            return;
        }
    } while (full && OUTPUT_MAX - c->out_len >= REPLY_MAX);
    if (c->closing && !full && c->out_len == 0)
        drop_client(c);
}

/* Called when select says the socket has bytes, or an end, to read. */
static void on_readable(struct client *c)
{
    ssize_t n = line_read(&c->in, c->fd);

    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n == -1) {
        report(c->fd, "read");
        drop_client(c);
        return;
    }
    if (n == 0)
        c->closing = true;
    else
        c->last_heard = now_ms();
    serve(c);
}

/* Reading from a client is paused while its replies do not fit: what the
 * server holds for a client that never reads stays bounded. */
static bool wants_input(const struct client *c)
{
    return !c->closing && OUTPUT_MAX - c->out_len >= REPLY_MAX;
}

/* Fills the sets select() watches, anew each time: select overwrites them
 * with its answer. */
static void watch(int listener, fd_set *readable, fd_set *writable)
{
    FD_ZERO(readable);
    FD_ZERO(writable);
    if (now_ms() >= accept_paused_until)
        FD_SET(listener, readable);
    for (int fd = 0; fd <= highest; fd++) {
        if (clients[fd] == NULL)
            continue;
        if (wants_input(clients[fd]))
            FD_SET(fd, readable);
        if (clients[fd]->out_len > 0)
            FD_SET(fd, writable);
    }
}

/* How long select() may sleep: until the first silent client's time is up,
 * or accepting resumes; NULL (for ever) if nothing is due. */
static struct timeval *time_to_wait(int idle_timeout, struct timeval *wait)
{
    long long due = -1;

    for (int fd = 0; fd <= highest; fd++) {
        if (clients[fd] != NULL) {
            long long when = clients[fd]->last_heard + idle_timeout * 1000LL;
            if (due == -1 || when < due)
                due = when;
        }
    }
    if (accept_paused_until > now_ms() && (due == -1 || accept_paused_until < due))
        due = accept_paused_until;
    if (due == -1)
        return NULL;
    due -= now_ms();
    if (due < 0)
        due = 0;
    wait->tv_sec = (time_t)(due / 1000);
    wait->tv_usec = (suseconds_t)(due % 1000 * 1000);
    return wait;
}

static void drop_silent_clients(int idle_timeout)
{
    long long now = now_ms();

    for (int fd = 0; fd <= highest; fd++) {
        struct client *c = clients[fd];
        if (c != NULL && now - c->last_heard >= idle_timeout * 1000LL) {
            log_line("client %d: read timed out (IDLE_TIMEOUT)\n", fd);
            drop_client(c);
        }
    }
}

int main(int argc, char **argv)
{
    struct options opts;
    int listener;

    reserve_standard_descriptors();
    parse_options(argc, argv, &opts);
    todo_init(&todo);
    handle_signals();
    listener = open_listener(&opts);
    /* Started with a thousand descriptors already open, the listener itself
     * would be past what an fd_set holds. */
    if (listener >= FD_SETSIZE) {
        fprintf(stderr, "server: the listening socket is descriptor %d, and "
                "select() watches those below FD_SETSIZE (%d) only\n",
                listener, FD_SETSIZE);
        return 1;
    }
    set_nonblocking(listener);
    for (;;) {
        fd_set readable, writable;
        struct timeval wait;
        int last = highest > listener ? highest : listener;

        watch(listener, &readable, &writable);
        if (select(last + 1, &readable, &writable, NULL,
                   time_to_wait(opts.idle_timeout, &wait)) == -1) {
            if (errno != EINTR)
                log_line("select: %s\n", strerror(errno));
            continue;
        }
        if (FD_ISSET(listener, &readable))
            accept_clients(listener);
        for (int fd = 0; fd <= last; fd++) {
            if (clients[fd] != NULL && FD_ISSET(fd, &readable))
                on_readable(clients[fd]);
            if (clients[fd] != NULL && FD_ISSET(fd, &writable))
                serve(clients[fd]);
        }
        drop_silent_clients(opts.idle_timeout);
    }
}
