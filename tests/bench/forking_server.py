"""The todo server as socketserver.ForkingTCPServer: a process per client.

    /usr/bin/python3 tests/bench/forking_server.py [PORT [ADDRESS]]

Each child has its own copy of the list, as with the articles' server: a
POST is seen on its own connection only. The bench is not hurt by it: its
GET asks for task_01, which no POST changes.
"""

import socketserver

from todo_handler import serve


class Server(socketserver.ForkingTCPServer):
    # socketserver serves 40 clients at once by default and makes the rest
    # wait for one of them to leave; v0.8 allows 1024, so does this.
    max_children = 1024


if __name__ == "__main__":
    serve(Server)
