"""The todo server as socketserver.ThreadingTCPServer: a thread per client.

    /usr/bin/python3 tests/bench/threading_server.py [PORT [ADDRESS]]
"""

import socketserver

from todo_handler import serve


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a stop does not wait for the clients' threads


if __name__ == "__main__":
    serve(Server)
