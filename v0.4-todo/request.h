/* What a request means: the reply each request line gets. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>

#include "line.h"
#include "todo.h"

#define REPLY_MAX (TODO_VALUE_MAX + 2) /* the longest reply, its "\r\n" too */

/* Writes the reply to request into reply, ending in "\r\n", and returns
 * its length (at most REPLY_MAX). */
size_t answer(struct todo_list *list, const struct line *request, char *reply);

#endif
