/* What a request means. */
#define _POSIX_C_SOURCE 200809L

#include "request.h"

#include <string.h>

/* Every request, whatever it says, gets the whole list: the article's
 * response = str(self.todo_list). */
size_t answer(struct todo_list *list, const struct line *request, char *reply)
{
    size_t len = todo_format(list, reply, REPLY_MAX - 2);

    (void)request;
    memcpy(reply + len, "\r\n", 2);
    return len + 2;
}
