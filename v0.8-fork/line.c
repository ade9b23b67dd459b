/* Line framing: cut a byte stream into requests at '\n'. */
#define _POSIX_C_SOURCE 200809L

#include "line.h"

#include <string.h>

#include "net.h"

void line_init(struct line_buffer *lb)
{
    lb->start = 0;
    lb->end = 0;
    lb->skipping = false;
}

ssize_t line_read(struct line_buffer *lb, int fd)
{
    ssize_t n;

    /* Move the unfinished request to the front, to make room after it. */
    memmove(lb->data, lb->data + lb->start, lb->end - lb->start);
    lb->end -= lb->start;
    lb->start = 0;
    n = read_some(fd, lb->data + lb->end, sizeof lb->data - lb->end);
    if (n > 0)
        lb->end += (size_t)n;
    return n;
}

bool line_next(struct line_buffer *lb, struct line *line)
{
    char *begin = lb->data + lb->start;
    size_t have = lb->end - lb->start;
    char *newline = memchr(begin, '\n', have);

    if (newline == NULL) {
        /* A full buffer with no '\n' holds a request too long to keep:
         * drop its bytes until its end comes, then answer it once. */
        if (lb->skipping || have == sizeof lb->data) {
            lb->skipping = true;
            lb->start = lb->end = 0;
        }
        return false;
    }
    lb->start += (size_t)(newline - begin) + 1;
    line->text = begin;
    line->len = (size_t)(newline - begin);
    line->too_long = lb->skipping;
    if (lb->skipping) {
        lb->skipping = false;
        line->len = 0;
    } else if (line->len > 0 && begin[line->len - 1] == '\r') {
        line->len--;
    }
    return true;
}
