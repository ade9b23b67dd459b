/* v0.3-threads: echo every client at once, each in a thread of its own.
 *
 * What still breaks: nothing, for an echo. But the bytes of a TCP stream
 * arrive in pieces of any size, so a server that must understand requests
 * has to find where each one ends: v0.4 cuts them at newlines. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define BUFFER_SIZE 1024

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

/* Out of descriptors, accept fails at once for as long as a connection
 * waits in the backlog: pausing keeps us from spinning at full CPU. */
static void back_off(void)
{
    struct timespec pause = {0, 100 * 1000 * 1000};

    nanosleep(&pause, NULL);
}

static int accept_client(int listener)
{
    struct sockaddr_storage addr;
    socklen_t len;
    char from[ADDRESS_TEXT_SIZE];

    for (;;) {
        len = sizeof addr;
        int client = accept(listener, (struct sockaddr *)&addr, &len);
        if (client != -1) {
            format_address((struct sockaddr *)&addr, len, from, sizeof from);
            fprintf(stderr, "client %d: connected from %s\n", client, from);
            return client;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        perror("accept");
        back_off();
    }
}

/* A read that waits longer than this fails with EAGAIN, and so does a write
 * that could send nothing in that time; a write that sent some bytes
 * returns their count (socket(7)). That is how a client that sends
 * nothing, or reads nothing, gets disconnected. */
static void set_idle_timeout(int client, int seconds)
{
    struct timeval limit = {seconds, 0};

    if (setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1 ||
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) == -1)
        perror("setsockopt SO_RCVTIMEO/SO_SNDTIMEO");
}

static void report(int client, const char *call)
{
    char what[64];

    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        fprintf(stderr, "client %d: %s timed out (IDLE_TIMEOUT)\n", client, call);
        return;
    }
    snprintf(what, sizeof what, "client %d: %s", client, call);
    perror(what);
}

/* Writes back every chunk that comes, until the client closes its side
 * (read returns 0) or something fails. */
static void serve_client(int client)
{
    char buf[BUFFER_SIZE];
    ssize_t n;

    while ((n = read_some(client, buf, sizeof buf)) > 0) {
        if (write_all(client, buf, (size_t)n) == -1) {
            report(client, "write");
            break;
        }
    }
    if (n == -1)
        report(client, "read");
    fprintf(stderr, "client %d: closed\n", client);
    close(client);
}

static void *client_thread(void *box)
{
    int client = *(int *)box;

    /* No one will join this thread: detached, it frees its own resources
     * when it ends. */
    pthread_detach(pthread_self());
    free(box);
    serve_client(client);
    return NULL;
}

/* Hands the client to a thread of its own. The descriptor travels in a box
 * of its own: passing &client would race with the next accept, which
 * overwrites client before the thread has read it. */
static void start_client_thread(int client)
{
    pthread_t thread;
    int *box = malloc(sizeof *box);
    int err = ENOMEM;

    if (box != NULL) {
        *box = client;
        err = pthread_create(&thread, NULL, client_thread, box);
    }
    if (err != 0) {
        /* Out of threads or memory: drop this client, pause, go on. */
        fprintf(stderr, "client %d: pthread_create: %s\n", client, strerror(err));
        free(box);
        close(client);
        back_off();
    }
}

int main(int argc, char **argv)
{
    struct options opts;
    int listener;

    reserve_standard_descriptors();
    parse_options(argc, argv, &opts);
    handle_signals();
    listener = open_listener(&opts);
    for (;;) {
        int client = accept_client(listener);
        set_idle_timeout(client, opts.idle_timeout);
        start_client_thread(client);
    }
}
