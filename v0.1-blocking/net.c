/* What every stage shares: the command line, the listening socket, and
 * reads and writes that survive signals and short counts. */
#define _POSIX_C_SOURCE 200809L

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PORT "9000"
#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_IDLE_TIMEOUT 60
#define MAX_IDLE_TIMEOUT 2592000 /* 30 days */

/* Started with a standard descriptor closed (`./server <&- 2>&-`), the
 * listener and the first client would take its number: the log, written to
 * descriptor 2, would then go to a client. open() takes the lowest free
 * number, so /dev/null fills each closed one in turn. */
void reserve_standard_descriptors(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && open("/dev/null", O_RDWR) != fd) {
            perror("open /dev/null");
            exit(1);
        }
    }
}

static void usage(FILE *out)
{
    fputs("usage: server [PORT [ADDRESS]]\n"
          "  PORT     0 to 65535, 0 for any free port (default " DEFAULT_PORT ")\n"
          "  ADDRESS  numeric IPv4 or IPv6 address (default " DEFAULT_ADDRESS ")\n"
          "  IDLE_TIMEOUT=N in the environment disconnects a client that\n"
          "           sends nothing for N seconds (1 to 2592000, default 60)\n",
          out);
}

static void bad_argument(const char *what, const char *value)
{
    fprintf(stderr, "server: bad %s '%s'\n", what, value);
    usage(stderr);
    exit(2);
}

/* Reads a whole number written in decimal digits only, at most max:
 * "+80", " 80" and "0x50" are not numbers here, though strtol takes them. */
static bool parse_number(const char *text, long max, long *value)
{
    long n = 0;

    if (*text == '\0')
        return false;
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9')
            return false;
        int digit = *text - '0';
        if (n > (max - digit) / 10)
            return false;
        n = n * 10 + digit;
    }
    *value = n;
    return true;
}

/* A dotted quad of four decimal parts, or IPv6 text, as inet_pton reads
 * them. getaddrinfo would also take inet_aton's old forms: "0" (which is
 * 0.0.0.0, every interface), "127.1", "0x7f000001", and "01.02.03.04",
 * read as octal. */
static bool is_numeric_address(const char *text)
{
    unsigned char address[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, text, address) == 1 ||
           inet_pton(AF_INET6, text, address) == 1;
}

void parse_options(int argc, char **argv, struct options *opts)
{
    const char *idle = getenv("IDLE_TIMEOUT");
    long number;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            exit(0);
        }
    }
    if (argc > 3)
        bad_argument("argument", argv[3]);
    opts->port = argc > 1 ? argv[1] : DEFAULT_PORT;
    opts->address = argc > 2 ? argv[2] : DEFAULT_ADDRESS;
    if (!parse_number(opts->port, 65535, &number))
        bad_argument("port", opts->port);
    if (!is_numeric_address(opts->address))
        bad_argument("address", opts->address);
    opts->idle_timeout = DEFAULT_IDLE_TIMEOUT;
    if (idle != NULL) {
        if (!parse_number(idle, MAX_IDLE_TIMEOUT, &number) || number == 0)
            bad_argument("IDLE_TIMEOUT", idle);
        opts->idle_timeout = (int)number;
    }
}

void format_address(const struct sockaddr *addr, socklen_t len, char *text,
                    size_t size)
{
    char host[64], port[8];

    if (getnameinfo(addr, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(text, size, "(unknown address)");
    else if (addr->sa_family == AF_INET6)
        snprintf(text, size, "[%s]:%s", host, port);
    else
        snprintf(text, size, "%s:%s", host, port);
}

/* socket, bind and listen on one address; on failure *failed names the
 * call that failed, errno says why, and -1 is returned. */
static int listen_on(const struct addrinfo *ai, const char **failed)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);

    if (fd == -1) {
        *failed = "socket";
        return -1;
    }
    /* Without SO_REUSEADDR a restart right after a stop fails with "Address
     * already in use": the old connections keep the port in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
        *failed = "setsockopt SO_REUSEADDR";
    else if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
        *failed = "bind";
    else if (listen(fd, SOMAXCONN) == -1)
        *failed = "listen";
    else
        return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

static void announce(int listener)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    char where[ADDRESS_TEXT_SIZE];

    if (getsockname(listener, (struct sockaddr *)&addr, &len) == -1) {
        perror("getsockname");
        exit(1);
    }
    format_address((struct sockaddr *)&addr, len, where, sizeof where);
    printf("listening on %s\n", where);
    fflush(stdout);
}

int open_listener(const struct options *opts)
{
    struct addrinfo hints, *found;
    char where[ADDRESS_TEXT_SIZE] = "";
    const char *failed = "getaddrinfo";
    int fd = -1, err;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* Numbers only: no name is ever looked up. */
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    err = getaddrinfo(opts->address, opts->port, &hints, &found);
    if (err != 0) {
        fprintf(stderr, "server: bad address '%s': %s\n", opts->address,
                gai_strerror(err));
        usage(stderr);
        exit(2);
    }
    for (struct addrinfo *ai = found; ai != NULL && fd == -1; ai = ai->ai_next) {
        format_address(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        fd = listen_on(ai, &failed);
        err = errno;
    }
    freeaddrinfo(found);
    if (fd == -1) {
        fprintf(stderr, "%s %s: %s\n", failed, where, strerror(err));
        exit(1);
    }
    announce(fd);
    return fd;
}

ssize_t read_some(int fd, void *buf, size_t size)
{
    ssize_t n;

    do
        n = read(fd, buf, size);
    while (n == -1 && errno == EINTR);
    return n;
}

/* On a blocking socket a full buffer makes write() wait. It returns fewer
 * bytes than it was given when a signal or the send timeout (SO_SNDTIMEO)
 * ends the wait after some bytes went, or at once on a non-blocking socket.
 * So this loops until every byte is taken or a write fails; each write
 * waits a whole timeout of its own. */
int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
