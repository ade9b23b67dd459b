/* v0.8-fork: a process per client, as Python's ForkingTCPServer does. The
 * parent accepts and forks; the child serves its one client with the
 * blocking loop of v0.6, then exits. The list lives in memory that every
 * process shares, under a lock that works across processes.
 *
 * What still breaks: a fork per connection is dear when connections are
 * short, and shared memory asks for the same care as threads did: see
 * make bench for what each design costs. */
#define _POSIX_C_SOURCE 200809L
/* MAP_ANONYMOUS is not in POSIX.1-2008, but Linux and macOS both have it:
 * these ask glibc and macOS to declare it. */
#define _DEFAULT_SOURCE
#define _DARWIN_C_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "line.h"
#include "net.h"
#include "request.h"
#include "todo.h"

#define MAX_CHILDREN 1024

/* The one thing every client shares, in memory shared by every process: a
 * plain global would be copied by fork, and each child would change only
 * its own copy. */
static struct todo_list *todo;

/* The lock on this file guards the list. An fcntl lock works between
 * processes on every Unix, and the kernel lets it go when its holder dies,
 * even by a crash: a dead child never locks the others out. A
 * process-shared mutex would stay locked after such a crash unless it is
 * robust (pthread_mutexattr_setrobust), which macOS does not offer. The
 * lock undoes nothing the dead child half did: todo.c makes each change
 * so that a crash cannot tear it. */
static int lock_fd;

/* Every child still running (0 marks a free slot), so that a stop can take
 * them down too. The parent changes it with every signal blocked, and each
 * handler runs with the others blocked. */
static pid_t children[MAX_CHILDREN];

static void stop(int sig)
{
    (void)sig;
    /* kill and _exit are async-signal-safe, exit is not; the kernel closes
     * every socket we hold. A stopped child (kill -STOP) keeps SIGTERM
     * pending until it is continued: SIGCONT does that. */
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] != 0) {
            kill(children[i], SIGTERM);
            kill(children[i], SIGCONT);
        }
    }
    _exit(0);
}

/* An exited child stays a zombie until its parent waits for it: wait for
 * every child that has exited, without blocking for one that has not. */
static void reap(int sig)
{
    int saved_errno = errno; /* the code this interrupts may be reading it */
    pid_t pid;

    (void)sig;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_CHILDREN; i++) {
            if (children[i] == pid)
                children[i] = 0;
        }
    }
    errno = saved_errno;
}

static void handle_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigfillset(&sa.sa_mask);
    /* A write to a client that has gone away then fails with EPIPE,
     * instead of SIGPIPE killing the whole server. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = reap;
    sa.sa_flags = SA_RESTART; /* accept goes on waiting after a reaping */
    sigaction(SIGCHLD, &sa, NULL);
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

/* Waits for the lock (F_WRLCK) or lets it go (F_UNLCK). Only children
 * call it: one that cannot lock ends, and only its client notices. */
static void lock_todo(short type)
{
    struct flock lock;

    memset(&lock, 0, sizeof lock);
    lock.l_type = type;
    lock.l_whence = SEEK_SET; /* from byte 0, and l_len 0: the whole file */
    /* F_SETLKW waits for the lock; a signal may cut the wait short. */
    while (fcntl(lock_fd, F_SETLKW, &lock) == -1) {
        if (errno != EINTR) {
            perror("fcntl F_SETLKW");
            exit(1);
        }
    }
}

/* Answers every whole request that has arrived, in order; -1 if a reply
 * could not be written. */
static int answer_requests(int client, struct line_buffer *lines)
{
    struct line request;
    char reply[REPLY_MAX];

    while (line_next(lines, &request)) {
        size_t len;

        /* The reply is a copy, made under the lock: once it is let go,
         * another client's POST may change the task. */
        lock_todo(F_WRLCK);
        len = answer(todo, &request, reply);
        lock_todo(F_UNLCK);
        if (write_all(client, reply, len) == -1)
            return -1;
    }
    return 0;
}

/* Reads what comes and answers each request in it, until the client closes
 * its side (read returns 0) or something fails. Bytes after the last '\n'
 * get no answer. */
static void serve_client(int client)
{
    struct line_buffer lines;
    ssize_t n;

    line_init(&lines);
    while ((n = line_read(&lines, client)) > 0) {
        if (answer_requests(client, &lines) == -1) {
            report(client, "write");
            break;
        }
    }
    if (n == -1)
        report(client, "read");
    fprintf(stderr, "client %d: closed\n", client);
    close(client);
}

/* The child's whole life: serve one client, then exit. */
static void serve_in_child(int listener, int client)
{
    struct sigaction sa;
    sigset_t none;

    /* The parent's handlers are not for the child: with its copy of the
     * table, stop() would kill the child's brothers. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    close(listener);
    serve_client(client);
    /* _exit, not exit: exit would run the parent's atexit handlers and the
     * C library's cleanup of every stdio stream in each child, writing to
     * pages it shares with the parent since the fork: each such write
     * copies a page. The child has nothing to flush: stderr is unbuffered. */
    _exit(0);
}

static pid_t *free_slot(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] == 0)
            return &children[i];
    }
    return NULL;
}

/* Serves the client in a child process of its own; the parent closes its
 * copy of the connection and goes back to accept. Every signal waits
 * meanwhile: a child that exits at once must be in the table before reap()
 * looks for it there. */
static void start_child(int listener, int client)
{
    sigset_t all, old;
    pid_t *slot, pid;
    bool started = false;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    slot = free_slot();
    if (slot == NULL) {
        fprintf(stderr, "client %d: %d children already\n", client, MAX_CHILDREN);
    } else if ((pid = fork()) == 0) {
        serve_in_child(listener, client);
    } else if (pid == -1) {
        fprintf(stderr, "client %d: fork: %s\n", client, strerror(errno));
    } else {
        /* Written by the parent only: a write to the child's copy of the
         * table would cost the child a copy of its page. */
        *slot = pid;
        started = true;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(client);
    if (!started)
        back_off(); /* out of processes: drop this client, pause, go on */
}

/* Memory that fork does not copy: parent and children see the same pages. */
static void *share_memory(size_t size)
{
    void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (memory == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return memory;
}

/* An unlinked temporary file: nothing is left behind when we exit. */
static int open_lock_file(void)
{
    FILE *file = tmpfile();

    if (file == NULL) {
        perror("tmpfile");
        exit(1);
    }
    return fileno(file);
}

int main(int argc, char **argv)
{
    struct options opts;
    int listener;

    reserve_standard_descriptors();
    parse_options(argc, argv, &opts);
    todo = share_memory(sizeof *todo);
    lock_fd = open_lock_file();
    todo_init(todo);
    handle_signals();
    listener = open_listener(&opts);
    for (;;) {
        int client = accept_client(listener);
        set_idle_timeout(client, opts.idle_timeout);
        start_child(listener, client);
    }
}
