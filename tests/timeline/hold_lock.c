/* Linked into the build of v0.6 that its timeline records (timeline.mk:
 * $(BUILD)/held), never into the stage a reader builds or the tests run.
 *
 * A lock that no other thread wants costs no system call, so a run of v0.6
 * would show nothing of its lock. In this build a thread that has just
 * stored a POST keeps the list's lock until another thread is asleep
 * waiting for it, then HOLD_MS more: the waiting thread's futex() wait is
 * in the trace every run, and long enough to see.
 *
 * The linker's --wrap puts these functions between the stage's code and
 * the real ones: the stage's calls to pthread_mutex_lock and todo_put come
 * here, and __real_x is the real x. Linux only: it reads /proc. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
    HOLD_MS = 100,     /* how long the lock is kept once another thread sleeps */
    GIVE_UP_MS = 5000  /* no other thread came: let go anyway */
};

struct todo_list;
bool __real_todo_put(struct todo_list *list, const char *id, size_t id_len,
                     const char *value, size_t value_len);
int __real_pthread_mutex_lock(pthread_mutex_t *mutex);

static _Thread_local pthread_mutex_t *held;  /* the last lock this thread took */
static atomic_int coming;  /* threads between a failed trylock and the lock */

/* As pthread_mutex_lock, but a thread that finds the lock taken says so
 * first, so that the holder knows someone is coming. */
int __wrap_pthread_mutex_lock(pthread_mutex_t *mutex)
{
    int err = pthread_mutex_trylock(mutex);

    if (err == EBUSY) {
        atomic_fetch_add(&coming, 1);
        err = __real_pthread_mutex_lock(mutex);
        atomic_fetch_sub(&coming, 1);
    }
    if (err == 0)
        held = mutex;
    return err;
}

static void pause_ms(long ms)
{
    struct timespec pause = {ms / 1000, ms % 1000 * 1000000L};

    nanosleep(&pause, NULL);
}

/* Reads /proc/self/task/TID/NAME into text; pread, which the timeline's
 * strace does not follow, unlike read. */
static bool read_task_file(const char *tid, const char *name, char *text, size_t size)
{
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/self/task/%s/%s", tid, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return false;
    n = pread(fd, text, size - 1, 0);
    close(fd);
    if (n <= 0)
        return false;
    text[n] = '\0';
    return true;
}

/* True if thread tid sleeps (state S) in futex() on a word of the mutex:
 * /proc/PID/task/TID/syscall gives the number and the arguments of the
 * call a thread is blocked in (proc(5)). */
static bool sleeps_on(const char *tid, const pthread_mutex_t *mutex)
{
    char stat[512], call[256];
    const char *after_name;
    char state;
    long number;
    unsigned long long word;
    uintptr_t lock = (uintptr_t)mutex;

    if (!read_task_file(tid, "stat", stat, sizeof stat) ||
        !read_task_file(tid, "syscall", call, sizeof call))
        return false;
    after_name = strrchr(stat, ')');
    if (after_name == NULL || sscanf(after_name, ") %c", &state) != 1 ||
        sscanf(call, "%ld %llx", &number, &word) != 2)
        return false;
    return state == 'S' && number == SYS_futex &&
           word >= lock && word < lock + sizeof *mutex;
}

static bool another_thread_sleeps_on(const pthread_mutex_t *mutex)
{
    char me[24];
    struct dirent *task;
    bool found = false;
    DIR *tasks = opendir("/proc/self/task");

    if (tasks == NULL)
        return false;
    snprintf(me, sizeof me, "%ld", (long)syscall(SYS_gettid));
    while (!found && (task = readdir(tasks)) != NULL)
        found = task->d_name[0] != '.' && strcmp(task->d_name, me) != 0 &&
                sleeps_on(task->d_name, mutex);
    closedir(tasks);
    return found;
}

static long now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

/* Keeps the lock until another thread sleeps waiting for it, then HOLD_MS
 * more; lets go after GIVE_UP_MS if none comes. */
static void hold(const pthread_mutex_t *mutex)
{
    long give_up = now_ms() + GIVE_UP_MS;

    while (now_ms() < give_up) {
        if (atomic_load(&coming) > 0 && another_thread_sleeps_on(mutex)) {
            pause_ms(HOLD_MS);
            return;
        }
        pause_ms(1);
    }
    fprintf(stderr, "hold_lock: no other thread waited for the lock in %d ms\n",
            GIVE_UP_MS);
}

bool __wrap_todo_put(struct todo_list *list, const char *id, size_t id_len,
                     const char *value, size_t value_len)
{
    bool stored = __real_todo_put(list, id, id_len, value, value_len);

    if (held != NULL)
        hold(held);
    return stored;
}
