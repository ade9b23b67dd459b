/* loadgen: the load generator of make bench.
 *
 * It opens C connections to a server, keeps one request in flight on each,
 * checks every reply byte for byte against the one expected, and reports
 * requests per second, latency percentiles, errors of each kind and its own
 * CPU use. One thread and one epoll loop drive every connection, so it
 * costs a few microseconds of CPU per request: a saturated generator would
 * measure itself, not the server, and its CPU line shows when it is close.
 *
 * Two modes: keep-alive (each connection asks again as soon as it has its
 * reply) and -n, a new connection per request (connect, ask once, close).
 * With -i, more connections stay open and silent meanwhile: what idle
 * clients cost a server. A connection that fails is counted, and in
 * keep-alive mode not opened again. Linux-only (epoll), as a tool that
 * measures may be.
 *
 *     loadgen -c 50 -d 2 9000
 *     loadgen -c 50 -p 10 -Q 'POST/bench_%k=done/s\n' -A 'submit success\r\n' 9000
 *     loadgen -n -c 20 9000 127.0.0.1
 *     loadgen -c 50 -i 950 9000
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* SOCK_NONBLOCK, epoll: Linux's, not POSIX's */

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEYS 100            /* "%k" in a request becomes 0 to KEYS-1, in turn */
#define READ_SIZE 4096      /* bytes read at once */
#define EVENTS 256          /* events taken from epoll at once */

/* ------------------------------------------------------------ requests */

/* A request and the reply it must get, both as raw bytes. */
struct request {
    char *text;
    size_t len;
    char *reply;
    size_t reply_len;
};

/* What the command line asked for. */
struct options {
    int connections;
    int idle;                 /* -i: more connections, silent once set up */
    double seconds;           /* the measured run */
    double timeout;           /* the longest a reply or a setup may take */
    bool connect_each;        /* -n: a new connection per request */
    bool synchronized;        /* -s: wait for a line on stdin, see usage */
    int second_percent;       /* share of requests that are the second kind */
    struct request first;
    struct request second[KEYS];
    int second_count;         /* KEYS if the second request has "%k", else 1 */
    struct addrinfo *server;
};

static void usage(FILE *out)
{
    fputs("usage: loadgen [options] PORT [ADDRESS]\n"
          "  -c N        connections, one request in flight on each (default 1)\n"
          "  -i N        N more connections, answered once, then silent while\n"
          "              the others are measured (default 0)\n"
          "  -d SECONDS  length of the measured run (default 2)\n"
          "  -n          a new connection per request: connect, ask once, close\n"
          "  -q REQUEST  the request (default 'GET/task_01/status\\n')\n"
          "  -a REPLY    the reply it must get (default 'see someone\\r\\n')\n"
          "  -Q REQUEST  a second request, sent instead of the first PERCENT%\n"
          "              of the time; '%k' in it becomes 0 to 99 in turn\n"
          "  -A REPLY    the reply the second request must get\n"
          "  -p PERCENT  how often the second request is sent (default 0)\n"
          "  -t SECONDS  the longest a reply, or the setup, may take (default 10)\n"
          "  -s          print 'ready' once every connection is open and has\n"
          "              been answered once, and wait for a line on stdin\n"
          "              before measuring; after the report print 'done' and\n"
          "              wait for a line again before closing the connections\n"
          "Requests and replies understand \\r, \\n and \\\\.\n"
          "ADDRESS is numeric, 127.0.0.1 by default.\n",
          out);
}

static void bad_argument(const char *what, const char *value)
{
    fprintf(stderr, "loadgen: bad %s '%s'\n", what, value);
    usage(stderr);
    exit(2);
}

/* A copy of text with \r, \n and \\ turned into the bytes they stand for. */
static char *unescape(const char *text, size_t *len)
{
    char *out = malloc(strlen(text) + 1);
    size_t n = 0;

    if (out == NULL) {
        perror("loadgen");
        exit(1);
    }
    for (; *text != '\0'; text++) {
        if (*text == '\\' && (text[1] == 'r' || text[1] == 'n' || text[1] == '\\')) {
            text++;
            out[n++] = *text == 'r' ? '\r' : *text == 'n' ? '\n' : '\\';
        } else {
            out[n++] = *text;
        }
    }
    *len = n;
    return out;
}

/* text with its first "%k" replaced by the number key, as a new string. */
static char *with_key(const char *text, int key)
{
    const char *mark = strstr(text, "%k");
    size_t size = strlen(text) + 16;
    char *out = malloc(size);

    if (out == NULL) {
        perror("loadgen");
        exit(1);
    }
    if (mark == NULL)
        snprintf(out, size, "%s", text);
    else
        snprintf(out, size, "%.*s%d%s", (int)(mark - text), text, key, mark + 2);
    return out;
}

static void make_request(struct request *r, const char *text, const char *reply)
{
    r->text = unescape(text, &r->len);
    r->reply = unescape(reply, &r->reply_len);
    if (r->len == 0 || r->reply_len == 0)
        bad_argument("request or reply", "(empty)");
}

static double parse_seconds(const char *text)
{
    char *end;
    double value = strtod(text, &end);

    if (*end != '\0' || !(value > 0 && value <= 3600))
        bad_argument("number of seconds", text);
    return value;
}

static int parse_count(const char *text, int min, int max)
{
    char *end;
    long value = strtol(text, &end, 10);

    if (*text == '\0' || *end != '\0' || value < min || value > max)
        bad_argument("number", text);
    return (int)value;
}

static struct addrinfo *resolve(const char *address, const char *port)
{
    struct addrinfo hints, *found;
    int err;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    err = getaddrinfo(address, port, &hints, &found);
    if (err != 0) {
        fprintf(stderr, "loadgen: %s port %s: %s\n", address, port, gai_strerror(err));
        exit(2);
    }
    return found;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    const char *second = NULL, *second_reply = NULL;
    const char *first = "GET/task_01/status\\n", *first_reply = "see someone\\r\\n";
    int opt;

    memset(o, 0, sizeof *o);
    o->connections = 1;
    o->seconds = 2;
    o->timeout = 10;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            exit(0);
        }
    }
    while ((opt = getopt(argc, argv, "c:i:d:nq:a:Q:A:p:t:s")) != -1) {
        switch (opt) {
        case 'c': o->connections = parse_count(optarg, 1, 100000); break;
        case 'i': o->idle = parse_count(optarg, 0, 100000); break;
        case 'd': o->seconds = parse_seconds(optarg); break;
        case 'n': o->connect_each = true; break;
        case 'q': first = optarg; break;
        case 'a': first_reply = optarg; break;
        case 'Q': second = optarg; break;
        case 'A': second_reply = optarg; break;
        case 'p': o->second_percent = parse_count(optarg, 0, 100); break;
        case 't': o->timeout = parse_seconds(optarg); break;
        case 's': o->synchronized = true; break;
        default: usage(stderr); exit(2);
        }
    }
    if (o->idle > 0 && o->connect_each)
        bad_argument("option", "-i and -n go separately");
    if (optind == argc || argc - optind > 2)
        bad_argument("arguments", optind == argc ? "(no PORT)" : argv[argc - 1]);
    if ((second == NULL) != (second_reply == NULL) ||
        (o->second_percent > 0 && second == NULL))
        bad_argument("second request", "-Q, -A and -p go together");
    make_request(&o->first, first, first_reply);
    o->second_count = 0;
    if (second != NULL) {
        o->second_count = strstr(second, "%k") != NULL ? KEYS : 1;
        for (int k = 0; k < o->second_count; k++) {
            char *text = with_key(second, k), *reply = with_key(second_reply, k);
            make_request(&o->second[k], text, reply);
            free(text);
            free(reply);
        }
    }
    o->server = resolve(argc - optind == 2 ? argv[optind + 1] : "127.0.0.1",
                        argv[optind]);
}

/* ------------------------------------------------------------ results */

/* Latencies, in nanoseconds, in a log-linear histogram: 32 buckets for
 * each power of two, so a percentile is within 3% of the true value, in a
 * fixed 16 KiB however long the run. */
#define SUB_BUCKETS 32
#define BUCKETS (SUB_BUCKETS * 64)

enum error_kind { ERR_CONNECT, ERR_RESET, ERR_CLOSED, ERR_MISMATCH, ERR_TIMEOUT, ERR_KINDS };

static const char *const error_names[ERR_KINDS] = {
    "connect",  /* the connection could not be made */
    "reset",    /* the server reset it, or a read or write failed */
    "closed",   /* the server closed it before the whole reply came */
    "mismatch", /* the reply was not the one expected */
    "timeout",  /* no whole reply within -t seconds */
};

struct results {
    unsigned long long requests;
    unsigned long long errors[ERR_KINDS];
    unsigned long long latency[BUCKETS];
    long long max_ns;
    bool mismatch_shown;
};

static struct results results;

static size_t bucket_of(long long ns)
{
    unsigned long long v = ns > 0 ? (unsigned long long)ns : 0;
    size_t shift = 0;

    while (v >= 2 * SUB_BUCKETS) {
        v >>= 1;
        shift++;
    }
    return shift * SUB_BUCKETS + (size_t)v;
}

/* The middle of the values that fall in bucket b. */
static double bucket_value(size_t b)
{
    size_t shift;

    if (b < 2 * SUB_BUCKETS)
        return (double)b;
    shift = b / SUB_BUCKETS - 1;
    return (double)((unsigned long long)(b - shift * SUB_BUCKETS) << shift) +
           (double)(1ULL << shift) / 2;
}

static void record(long long ns)
{
    results.requests++;
    results.latency[bucket_of(ns)]++;
    if (ns > results.max_ns)
        results.max_ns = ns;
}

/* The latency that fraction p of the requests did not exceed, in µs. */
static double percentile(double p)
{
    unsigned long long seen = 0, wanted = (unsigned long long)(p * (double)results.requests);
    double value;

    if (results.requests == 0)
        return 0;
    if (wanted == 0)
        wanted = 1;
    for (size_t b = 0; b < BUCKETS; b++) {
        seen += results.latency[b];
        if (seen >= wanted) {
            value = bucket_value(b);
            return (value < (double)results.max_ns ? value : (double)results.max_ns) / 1000;
        }
    }
    return (double)results.max_ns / 1000;
}

/* Prints bytes so that \r, \n and other control bytes show. */
static void show_bytes(const char *what, const char *bytes, size_t len)
{
    fprintf(stderr, "%s \"", what);
    for (size_t i = 0; i < len && i < 200; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c == '\r')
            fputs("\\r", stderr);
        else if (c == '\n')
            fputs("\\n", stderr);
        else if (c < 32 || c > 126 || c == '"' || c == '\\')
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputs("\"\n", stderr);
}

/* ------------------------------------------------------------ connections */

enum state {
    IDLE,       /* not in use, or waiting for the measured run */
    CONNECTING, /* connect() sent, waiting for the handshake */
    SENDING,    /* the request is not all written */
    WAITING,    /* waiting for the rest of the reply */
};

struct conn {
    int fd;                    /* -1 when closed */
    enum state state;
    const struct request *req; /* the request in flight */
    size_t sent;               /* bytes of it written */
    size_t matched;            /* bytes of its reply received and checked */
    long long started;         /* when it was sent (-n: when connect began) */
};

static struct options opts;
static int epoll_fd;
static struct conn *conns;     /* the -c active ones first, then the -i idle */
static int conn_count;         /* -c plus -i */
static bool running;           /* new requests may start */
static int busy;               /* connections that are not IDLE */
static bool reopen_soon;       /* -n: a connection could not be opened */
static int second_turn;        /* spreads the second requests evenly */
static int next_key;

static long long now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void set_state(struct conn *c, enum state state)
{
    busy += (state != IDLE) - (c->state != IDLE);
    c->state = state;
}

/* The next request to send: the second kind second_percent% of the time,
 * spread evenly (one in ten for 10%), its key turning 0 to 99. */
static const struct request *next_request(void)
{
    second_turn += opts.second_percent;
    if (second_turn < 100)
        return &opts.first;
    second_turn -= 100;
    next_key = (next_key + 1) % opts.second_count;
    return &opts.second[next_key];
}

static void close_conn(struct conn *c)
{
    /* In -n mode a normal close would leave each port of ours in
     * TIME_WAIT for 60 s. Linux (tcp_tw_reuse=2, its default, on loopback)
     * reuses such a port a second later (tcp_tw_reuse_delay), so the
     * 28,232 ports of the default ip_local_port_range last up to about
     * 28,000 connections a second, and an event loop goes faster. A reset
     * (SO_LINGER with a zero timeout) closes without a TIME_WAIT. It comes
     * after the whole reply, so the server loses nothing. */
    if (opts.connect_each) {
        struct linger reset = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    }
    close(c->fd);
    c->fd = -1;
    set_state(c, IDLE);
}

static void fail(struct conn *c, enum error_kind kind)
{
    results.errors[kind]++;
    close_conn(c);
}

/* Writes what the socket takes of the request; the rest waits for EPOLLOUT. */
static void send_more(struct conn *c)
{
    while (c->sent < c->req->len) {
        ssize_t n = write(c->fd, c->req->text + c->sent, c->req->len - c->sent);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fail(c, ERR_RESET);
            return;
        }
        c->sent += (size_t)n;
    }
    set_state(c, WAITING);
}

/* Starts the next request on an open connection. */
static void send_request(struct conn *c)
{
    c->req = next_request();
    c->sent = 0;
    c->matched = 0;
    c->started = now_ns();
    set_state(c, SENDING);
    send_more(c);
}

/* Opens a connection; the handshake completes with an EPOLLOUT event.
 * Edge-triggered, a connection stays registered for both directions all
 * its life: no epoll_ctl call per request. */
static void open_conn(struct conn *c)
{
    const struct addrinfo *ai = opts.server;
    struct epoll_event ev;

    c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, ai->ai_protocol);
    if (c->fd == -1) {
        perror("loadgen: socket");
        results.errors[ERR_CONNECT]++;
        reopen_soon = true;
        return;
    }
    c->started = now_ns();
    set_state(c, CONNECTING);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
        perror("loadgen: epoll_ctl");
        exit(1);
    }
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS) {
        fail(c, ERR_CONNECT);
        reopen_soon = true;
    }
}

/* The handshake is over: either it failed or the first request can go. */
static void on_connected(struct conn *c, uint32_t events)
{
    long long connect_began = c->started;

    if (events & (EPOLLERR | EPOLLHUP)) {
        fail(c, ERR_CONNECT);
        return;
    }
    send_request(c);
    if (opts.connect_each)
        c->started = connect_began; /* its time includes the connect */
}

static void mismatch(struct conn *c, const char *got, size_t len)
{
    if (!results.mismatch_shown) {
        results.mismatch_shown = true;
        show_bytes("loadgen: first wrong reply, to", c->req->text, c->req->len);
        show_bytes("  expected", c->req->reply, c->req->reply_len);
        show_bytes("  got     ", got, len);
    }
    fail(c, ERR_MISMATCH);
}

/* The whole reply came: count it, then ask again (or, with -n, close and
 * connect again). */
static void on_reply(struct conn *c)
{
    record(now_ns() - c->started);
    if (opts.connect_each) {
        close_conn(c);
        if (running)
            open_conn(c);
    } else if (running) {
        send_request(c);
    } else {
        set_state(c, IDLE);
    }
}

/* Reads what came and checks it against the reply expected. More than the
 * reply is as wrong as a different reply: one request, one reply. */
static void receive(struct conn *c)
{
    char buf[READ_SIZE];
    ssize_t n;

    do {
        n = read(c->fd, buf, sizeof buf);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fail(c, ERR_RESET);
            return;
        }
        if (n == 0) {
            fail(c, ERR_CLOSED);
            return;
        }
        if ((size_t)n > c->req->reply_len - c->matched ||
            memcmp(buf, c->req->reply + c->matched, (size_t)n) != 0) {
            mismatch(c, buf, (size_t)n);
            return;
        }
        c->matched += (size_t)n;
        /* Edge-triggered: a full buffer may mean more is waiting. */
    } while (n == (ssize_t)sizeof buf && c->matched < c->req->reply_len);
    if (c->matched == c->req->reply_len)
        on_reply(c);
}

static void on_event(struct conn *c, uint32_t events)
{
    switch (c->state) {
    case CONNECTING:
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(c, events);
        break;
    case SENDING:
        send_more(c);
        break;
    case WAITING:
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            receive(c);
        break;
    case IDLE:
        /* An idle connection the server closes or resets is lost. */
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            fail(c, (events & EPOLLERR) ? ERR_RESET : ERR_CLOSED);
        break;
    }
}

/* ------------------------------------------------------------ the loop */

/* -n: every connection that is down while running is opened again. */
static void reopen_closed(void)
{
    reopen_soon = false;
    for (int i = 0; i < opts.connections; i++) {
        if (conns[i].fd == -1)
            open_conn(&conns[i]);
    }
}

/* Handles events until done() is true or the clock reaches deadline. */
static void run_until(long long deadline, bool (*done)(void))
{
    struct epoll_event events[EVENTS];

    while (!done()) {
        long long left = deadline - now_ns();
        int n, wait_ms;

        if (left <= 0)
            return;
        /* A connection that could not even be opened is tried again in a
         * millisecond, not left out until the end. */
        wait_ms = reopen_soon ? 1 : (int)((left + 999999) / 1000000);
        n = epoll_wait(epoll_fd, events, EVENTS, wait_ms);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            perror("loadgen: epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c->fd != -1)
                on_event(c, events[i].events);
        }
        if (opts.connect_each && running && busy < opts.connections)
            reopen_closed();
    }
}

static bool never(void)
{
    return false;
}

static bool all_idle(void)
{
    return busy == 0;
}

/* What is still unanswered when time is up has timed out. */
static void time_out_the_rest(void)
{
    for (int i = 0; i < conn_count; i++) {
        if (conns[i].state != IDLE)
            fail(&conns[i], ERR_TIMEOUT);
    }
}

static long long after(double seconds)
{
    return now_ns() + (long long)(seconds * 1e9);
}

/* Keep-alive: opens every connection and has each answered once, so that
 * the measured run starts with the server's threads or processes ready. */
static void set_up(void)
{
    for (int i = 0; i < conn_count; i++)
        open_conn(&conns[i]);
    run_until(after(opts.timeout), all_idle);
    time_out_the_rest();
    results.requests = 0;
    results.max_ns = 0;
    memset(results.latency, 0, sizeof results.latency);
}

static void wait_for_a_line(void)
{
    char line[64];

    if (fgets(line, sizeof line, stdin) == NULL && ferror(stdin))
        perror("loadgen: stdin");
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void report(double seconds, double cpu)
{
    unsigned long long errors = 0;

    for (int k = 0; k < ERR_KINDS; k++)
        errors += results.errors[k];
    printf("connections %d\n", opts.connections);
    printf("idle %d\n", opts.idle);
    printf("mode %s\n", opts.connect_each ? "connect-per-request" : "keep-alive");
    printf("seconds %.3f\n", seconds);
    printf("requests %llu\n", results.requests);
    printf("requests/s %.1f\n", (double)results.requests / seconds);
    printf("p50_us %.1f\n", percentile(0.50));
    printf("p99_us %.1f\n", percentile(0.99));
    printf("max_us %.1f\n", (double)results.max_ns / 1000);
    printf("errors %llu\n", errors);
    for (int k = 0; k < ERR_KINDS; k++)
        printf("errors_%s %llu\n", error_names[k], results.errors[k]);
    printf("cpu_us/request %.2f\n",
           results.requests > 0 ? cpu * 1e6 / (double)results.requests : 0.0);
    printf("cpu_busy %.2f\n", cpu / seconds);
}

/* Room for every connection: raise the soft limit on descriptors as far as
 * the hard one allows. */
static void allow_descriptors(int wanted)
{
    struct rlimit lim;

    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)wanted) {
        lim.rlim_cur = lim.rlim_max < (rlim_t)wanted ? lim.rlim_max : (rlim_t)wanted;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur < (rlim_t)wanted) {
        fprintf(stderr, "loadgen: %d connections need %d descriptors; the limit is %llu\n",
                conn_count, wanted, (unsigned long long)lim.rlim_cur);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    long long began;
    double cpu_began, seconds;

    parse_options(argc, argv, &opts);
    conn_count = opts.connections + opts.idle;
    allow_descriptors(conn_count + 16);
    signal(SIGPIPE, SIG_IGN); /* a write to a reset connection: EPIPE */
    conns = calloc((size_t)conn_count, sizeof *conns);
    epoll_fd = epoll_create1(0);
    if (conns == NULL || epoll_fd == -1) {
        perror("loadgen");
        return 1;
    }
    for (int i = 0; i < conn_count; i++)
        conns[i].fd = -1;
    if (!opts.connect_each)
        set_up();
    if (opts.synchronized) {
        printf("ready\n");
        fflush(stdout);
        wait_for_a_line();
    }

    began = now_ns();
    cpu_began = cpu_seconds();
    running = true;
    for (int i = 0; i < opts.connections; i++) {
        if (opts.connect_each)
            open_conn(&conns[i]);
        else if (conns[i].fd != -1)
            send_request(&conns[i]);
    }
    run_until(after(opts.seconds), never);
    running = false;
    run_until(after(opts.timeout), all_idle);
    time_out_the_rest();
    seconds = (double)(now_ns() - began) / 1e9;
    report(seconds, cpu_seconds() - cpu_began);

    if (opts.synchronized) {
        printf("done\n");
        fflush(stdout);
        wait_for_a_line();
    }
    return 0;
}
