/* floor_blocking: the least a blocking server of the todo protocol can cost
 * per request on Linux, the yardstick make bench measures the thread and
 * fork stages, and exercise 8.1's pool, against (floor.c is the event
 * loop's).
 *
 * Each connection is served by one thread or process, in a blocking loop:
 * read, cut the requests, answer each, write. It answers with the stages'
 * own line.c, request.c and todo.c (v0.7-select's, the same as v0.6's and
 * v0.8's), and does nothing else: no log, no idle timeout, no signal
 * handler, no table of children. What a stage pays above it is the price
 * of what it does beyond answering. make bench sends it GET only: with
 * threads and no lock, a POST would race with the other threads.
 *
 * The environment chooses the design, as chapter 30 of UNIX Network
 * Programming, Volume 1 (third edition, 2003) lists them:
 *   FLOOR=threads       a thread per connection (v0.3 to v0.6), the default
 *   FLOOR=processes     a process per connection (v0.8)
 *   FLOOR=thread-pool   WORKERS threads made at the start, each accepting
 *                       and serving one connection at a time
 *   FLOOR=process-pool  the same with processes (exercise 8.1)
 *   WORKERS=N           the size of a pool, 1 to 1024 (default 4)
 *   LOCK=none           no lock: threads share the list, each process
 *                       answers from its own copy of it (the default)
 *   LOCK=fcntl          processes: the list in shared memory, an fcntl
 *                       lock on a file around each answer, as v0.8 does
 *   LOCK=mutex          the list in shared memory, a process-shared robust
 *                       pthread mutex around each answer
 *
 *     FLOOR=processes LOCK=mutex ./floor-blocking 9000 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, prctl: Linux's, not POSIX's */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "line.h"
#include "net.h"
#include "request.h"
#include "todo.h"

#define MAX_WORKERS 1024
#define DEFAULT_WORKERS 4

enum design { THREADS, PROCESSES, THREAD_POOL, PROCESS_POOL };
enum lock_kind { LOCK_NONE, LOCK_FCNTL, LOCK_MUTEX };

/* The list and the mutex that guards it: in shared memory when processes
 * lock it, so that every process sees the same ones. */
struct shared {
    struct todo_list todo;
    pthread_mutex_t mutex;
};

static struct shared *shared;
static enum lock_kind lock_kind;
static int lock_fd; /* LOCK_FCNTL: the file whose lock guards the list */

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void bad_environment(const char *name, const char *value)
{
    fprintf(stderr, "floor-blocking: bad %s '%s'\n", name, value);
    exit(2);
}

/* The index of the environment variable's value among choices (a list that
 * ends with NULL): 0 if it is not set, exit 2 if it is none of them. */
static int env_choice(const char *name, const char *const choices[])
{
    const char *value = getenv(name);

    if (value == NULL)
        return 0;
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(value, choices[i]) == 0)
            return i;
    }
    bad_environment(name, value);
    return 0;
}

static int env_workers(void)
{
    const char *value = getenv("WORKERS");
    char *end;
    long n;

    if (value == NULL)
        return DEFAULT_WORKERS;
    n = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || n < 1 || n > MAX_WORKERS)
        bad_environment("WORKERS", value);
    return (int)n;
}

static void fcntl_lock(short type)
{
    struct flock lock = {.l_type = type, .l_whence = SEEK_SET};

    while (fcntl(lock_fd, F_SETLKW, &lock) == -1) {
        if (errno != EINTR)
            fail("fcntl F_SETLKW");
    }
}

static void lock_list(void)
{
    if (lock_kind == LOCK_FCNTL) {
        fcntl_lock(F_WRLCK);
    } else if (lock_kind == LOCK_MUTEX) {
        /* A robust mutex whose holder died is handed to the next locker
         * with EOWNERDEAD; answer() leaves the list whole at every step,
         * so it is declared consistent and used. */
        if (pthread_mutex_lock(&shared->mutex) == EOWNERDEAD)
            pthread_mutex_consistent(&shared->mutex);
    }
}

static void unlock_list(void)
{
    if (lock_kind == LOCK_FCNTL)
        fcntl_lock(F_UNLCK);
    else if (lock_kind == LOCK_MUTEX)
        pthread_mutex_unlock(&shared->mutex);
}

/* An unlinked temporary file: nothing is left behind when we exit. */
static int open_lock_file(void)
{
    FILE *file = tmpfile();

    if (file == NULL)
        fail("tmpfile");
    return fileno(file);
}

static void share_list(void)
{
    static struct shared own;
    pthread_mutexattr_t attr;

    shared = &own;
    if (lock_kind == LOCK_NONE)
        return;
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        fail("mmap");
    if (lock_kind == LOCK_FCNTL)
        lock_fd = open_lock_file();
    else if (pthread_mutexattr_init(&attr) != 0 ||
             pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
             pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
             pthread_mutex_init(&shared->mutex, &attr) != 0)
        fail("pthread_mutex_init");
}

/* Answers the whole requests that have come; -1 if a reply could not be
 * written. */
static int answer_requests(int client, struct line_buffer *lines)
{
    struct line request;
    char reply[REPLY_MAX];
    size_t len;

    while (line_next(lines, &request)) {
        lock_list();
        len = answer(&shared->todo, &request, reply);
        unlock_list();
        if (write_all(client, reply, len) == -1)
            return -1;
    }
    return 0;
}

/* Serves one connection until the client closes it, then closes it. */
static void serve(int client)
{
    struct line_buffer lines;

    line_init(&lines);
    while (line_read(&lines, client) > 0 && answer_requests(client, &lines) == 0)
        ;
    close(client);
}

static int accept_client(int listener)
{
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client != -1)
            return client;
        if (errno != EINTR && errno != ECONNABORTED) {
            /* Out of descriptors, say: pause rather than spin on the backlog. */
            struct timespec pause = {0, 100 * 1000 * 1000};
            perror("accept");
            nanosleep(&pause, NULL);
        }
    }
}

static void *client_thread(void *client)
{
    serve((int)(intptr_t)client);
    return NULL;
}

static void thread_per_connection(int listener)
{
    pthread_attr_t attr;
    pthread_t thread;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int client = accept_client(listener);
        int err = pthread_create(&thread, &attr, client_thread, (void *)(intptr_t)client);

        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            close(client);
        }
    }
}

static void process_per_connection(int listener)
{
    for (;;) {
        int client = accept_client(listener);
        pid_t pid = fork();

        if (pid == 0) {
            close(listener);
            serve(client);
            _exit(0);
        }
        if (pid == -1)
            perror("fork");
        close(client);
        /* Wait for the children that have ended: their CPU time then
         * counts in ours (make bench reads it), and no zombie stays. */
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
}

/* A worker of a pool: accept, serve, again. Every worker waits in accept
 * on the one listening socket; the kernel hands each connection to one. */
static void *worker(void *listener)
{
    for (;;)
        serve(accept_client((int)(intptr_t)listener));
    return NULL;
}

static void start_worker(int listener, bool processes)
{
    void *arg = (void *)(intptr_t)listener;
    pthread_t thread;

    if (!processes) {
        if (pthread_create(&thread, NULL, worker, arg) != 0)
            fail("pthread_create");
        return;
    }
    switch (fork()) {
    case 0:
        /* A worker never ends by itself: it ends with the parent (Linux's
         * PR_SET_PDEATHSIG), so that stopping the parent stops the pool. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        worker(arg);
        break;
    case -1:
        fail("fork");
    }
}

static void pool(int listener, int workers, bool processes)
{
    for (int i = 0; i < workers; i++)
        start_worker(listener, processes);
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    static const char *const designs[] = {"threads", "processes", "thread-pool",
                                          "process-pool", NULL};
    static const char *const locks[] = {"none", "fcntl", "mutex", NULL};
    struct options opts;
    enum design design = (enum design)env_choice("FLOOR", designs);
    int workers = env_workers();
    int listener;

    lock_kind = (enum lock_kind)env_choice("LOCK", locks);
    if (lock_kind == LOCK_FCNTL && (design == THREADS || design == THREAD_POOL))
        bad_environment("LOCK for threads (an fcntl lock is a process's)", "fcntl");
    parse_options(argc, argv, &opts);
    share_list();
    todo_init(&shared->todo);
    signal(SIGPIPE, SIG_IGN);
    listener = open_listener(&opts);
    switch (design) {
    case THREADS:
        thread_per_connection(listener);
        break;
    case PROCESSES:
        process_per_connection(listener);
        break;
    case THREAD_POOL:
    case PROCESS_POOL:
        pool(listener, workers, design == PROCESS_POOL);
        break;
    }
}
