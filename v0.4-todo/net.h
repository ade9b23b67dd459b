/* What every stage shares: the command line, the listening socket, and
 * reads and writes that survive signals and short counts. */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* What the command line and the environment asked for. */
struct options {
    const char *port;    /* decimal digits, 0 to 65535 */
    const char *address; /* a numeric IPv4 or IPv6 address */
    int idle_timeout;    /* seconds a client may stay silent */
};

/* Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so that
 * no socket takes their numbers; exits 1 if it cannot. main calls it first. */
void reserve_standard_descriptors(void);

/* Fills opts from argv and IDLE_TIMEOUT; on a bad argument prints the
 * usage and exits 2, on -h or --help prints it and exits 0. */
void parse_options(int argc, char **argv, struct options *opts);

/* Binds and listens on opts' address and port, then prints the one line
 * "listening on ADDRESS:PORT" to standard output. Exits 2 if the address
 * does not parse, 1 if the port cannot be bound. */
int open_listener(const struct options *opts);

/* Room for "[ffff:...%scope]:65535", the longest address format_address writes. */
#define ADDRESS_TEXT_SIZE 96

/* Writes "1.2.3.4:80" or "[::1]:80" into text. */
void format_address(const struct sockaddr *addr, socklen_t len, char *text,
                    size_t size);

/* read(), retried when a signal interrupts it before any byte arrived. */
ssize_t read_some(int fd, void *buf, size_t size);

/* Writes all len bytes, however many calls it takes: 0, or -1 and errno. */
int write_all(int fd, const void *buf, size_t len);

#endif
