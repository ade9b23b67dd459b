/* Line framing. TCP delivers a stream of bytes, not messages: one read may
 * bring half a request, or three and a bit. So requests are cut at '\n',
 * however the bytes arrive. */
#ifndef LINE_H
#define LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define REQUEST_MAX 1024 /* bytes in a request, its '\n' not counted */

/* The bytes read from one connection and not yet taken as requests. Each
 * connection has its own, so nothing here is shared between clients. */
struct line_buffer {
    char data[REQUEST_MAX + 1]; /* a longest request and its '\n' */
    size_t start;               /* the first byte not yet taken */
    size_t end;                 /* one past the last byte read */
    bool skipping;              /* dropping a request that was too long */
};

/* One request, without its '\n' and without one '\r' before it. */
struct line {
    const char *text; /* inside the buffer: valid until its next use */
    size_t len;       /* the text may hold any byte, '\0' included */
    bool too_long;    /* over REQUEST_MAX bytes: text is empty */
};

void line_init(struct line_buffer *lb);

/* Reads what has arrived on fd into the buffer; returns what read() does:
 * the count, 0 at the end of the stream, or -1 and errno. */
ssize_t line_read(struct line_buffer *lb, int fd);

/* Takes the next whole request out of the buffer; false if there is none
 * yet. Bytes after the last '\n' wait for the next read. */
bool line_next(struct line_buffer *lb, struct line *line);

#endif
