/* Fuzz target: line framing (line.c), fed as a server feeds it.
 *
 * The input is a byte stream and the way it arrives: its first byte says
 * how many piece sizes follow (0 to 7, 0 meaning the stream comes in one
 * piece), each size is one byte (a piece of 1 to 256 bytes, used in turn),
 * and the rest is the stream. Each piece is written into a socket pair and
 * read back with line_read() until nothing is left, as a server would, and
 * every request line_next() gives is checked against a plain splitter:
 * same text, same order, none missing, none made up. */
#define _POSIX_C_SOURCE 200809L

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "line.h"
#include "net.h"

#define MAX_PIECE_SIZES 8

/* The stream, and how far the requests taken so far reach into it. */
struct stream {
    const uint8_t *bytes;
    size_t len;
    size_t taken; /* the first byte after the last request taken */
};

/* The request that must come next: the bytes before the next '\n', with
 * one '\r' before it dropped; too long if over REQUEST_MAX bytes. */
static void check_next(struct stream *s, const struct line_buffer *lb,
                       const struct line *line)
{
    const uint8_t *begin = s->bytes + s->taken;
    const uint8_t *newline = memchr(begin, '\n', s->len - s->taken);
    size_t len;

    assert(newline != NULL); /* no request before its '\n' has come */
    len = (size_t)(newline - begin);
    s->taken += len + 1;
    if (len > REQUEST_MAX) {
        assert(line->too_long);
        assert(line->len == 0);
        return;
    }
    if (len > 0 && begin[len - 1] == '\r')
        len--;
    assert(!line->too_long);
    assert(line->len == len);
    assert(line->text >= lb->data);
    assert(line->text + line->len <= lb->data + sizeof lb->data);
    assert(memcmp(line->text, begin, len) == 0);
}

/* Takes every whole request out of the buffer, as a server does after
 * each read, and checks what is left. */
static void take_requests(struct stream *s, struct line_buffer *lb)
{
    struct line line;

    while (line_next(lb, &line))
        check_next(s, lb, &line);
    assert(lb->start <= lb->end && lb->end <= sizeof lb->data);
    /* Room for the next read: a full buffer would make it return 0, which
     * the server takes for the end of the stream. */
    assert(lb->end - lb->start < sizeof lb->data);
}

/* Reads until the socket is empty (or, once closed, at its end). */
static void read_all(struct stream *s, struct line_buffer *lb, int fd,
                     int closed)
{
    for (;;) {
        ssize_t n = line_read(lb, fd);
        if (n == -1) {
            assert(errno == EAGAIN || errno == EWOULDBLOCK);
            assert(!closed);
            return;
        }
        assert(n > 0 || closed); /* no end of stream before the end */
        if (n == 0)
            return;
        take_requests(s, lb);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct line_buffer lb;
    struct stream s;
    const uint8_t *sizes;
    size_t nsizes;
    int fds[2];

    if (size == 0)
        return 0;
    nsizes = data[0] % MAX_PIECE_SIZES;
    if (size < 1 + nsizes)
        return 0;
    sizes = data + 1;
    s.bytes = data + 1 + nsizes;
    s.len = size - 1 - nsizes;
    s.taken = 0;

    assert(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    assert(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
    line_init(&lb);
    for (size_t at = 0, i = 0; at < s.len; i++) {
        size_t piece = nsizes > 0 ? (size_t)sizes[i % nsizes] + 1 : s.len;
        if (piece > s.len - at)
            piece = s.len - at;
        assert(write_all(fds[1], s.bytes + at, piece) == 0);
        at += piece;
        read_all(&s, &lb, fds[0], 0);
    }
    close(fds[1]);
    read_all(&s, &lb, fds[0], 1);
    close(fds[0]);
    /* Every request whose '\n' came was taken; the bytes after the last
     * '\n' never make one. */
    assert(memchr(s.bytes + s.taken, '\n', s.len - s.taken) == NULL);
    return 0;
}
