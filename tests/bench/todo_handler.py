"""v0.6's todo protocol the way the articles write a server: with Python's
socketserver, a StreamRequestHandler that reads request lines from rfile.

threading_server.py and forking_server.py serve it with ThreadingTCPServer
and ForkingTCPServer. They are the references make bench measures the C
stages against, so they keep the stages' command line (PORT [ADDRESS]), print
the same `listening on ADDRESS:PORT` line, and honour IDLE_TIMEOUT; they
have none of the stages' limits (request length, NUL bytes, list size).
"""

import os
import socket
import socketserver
import sys

# The articles' three tasks. Under ThreadingTCPServer the threads share this
# dict (the GIL keeps each get and set whole); under ForkingTCPServer every
# child has its own copy, so a POST is seen on its own connection only.
todo = {
    b"task_01": b"see someone",
    b"task_02": b"read book",
    b"task_03": b"play basketball",
}


def answer(request):
    """The reply to one request (its line end taken off), without \\r\\n."""
    parts = request.split(b"/")
    method = parts[0]
    if method == b"GET":
        if len(parts) != 3 or not parts[1]:
            return b"error: expected GET/<task_id>/<status>"
        return todo.get(parts[1], b"no key match")
    if method == b"POST":
        if len(parts) != 3 or parts[1].count(b"=") != 1 or parts[1].startswith(b"="):
            return b"error: expected POST/<task_id>=<value>/<status>"
        task_id, value = parts[1].split(b"=")
        todo[task_id] = value
        return b"submit success"
    return b"data no found"


def log(*words):
    print(*words, file=sys.stderr)


class TodoHandler(socketserver.StreamRequestHandler):
    # The articles' settimeout(60): a client silent this long is dropped.
    timeout = int(os.environ.get("IDLE_TIMEOUT", "60"))

    def handle(self):
        log(f"client {self.client_address}: connected")
        try:
            # Each line of rfile is one request: the "sticky packet" answer.
            for line in self.rfile:
                if not line.endswith(b"\n"):
                    break  # bytes after the last \n get no reply
                request = line[:-1].removesuffix(b"\r")
                self.wfile.write(answer(request) + b"\r\n")
        except (ConnectionResetError, BrokenPipeError, socket.timeout) as e:
            log(f"client {self.client_address}: {e}")
        log(f"client {self.client_address}: closed")


def parse_arguments(argv):
    usage = f"usage: python3 {os.path.basename(sys.argv[0])} [PORT [ADDRESS]]"
    if len(argv) > 2 or any(a in ("-h", "--help") for a in argv):
        print(usage, file=sys.stderr if len(argv) > 2 else sys.stdout)
        sys.exit(2 if len(argv) > 2 else 0)
    port = argv[0] if argv else "9000"
    if not port.isdigit() or int(port) > 65535:
        print(f"bad port {port!r}\n{usage}", file=sys.stderr)
        sys.exit(2)
    return int(port), argv[1] if len(argv) > 1 else "127.0.0.1"


def serve(server_class):
    """Runs server_class on the command line's address until it is killed."""
    port, address = parse_arguments(sys.argv[1:])
    server_class.allow_reuse_address = True
    # The stages listen with SOMAXCONN; socketserver's default backlog of 5
    # would measure the backlog, not the design.
    server_class.request_queue_size = socket.SOMAXCONN
    if ":" in address:
        server_class.address_family = socket.AF_INET6
    with server_class((address, port), TodoHandler) as server:
        host, port = server.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"listening on {shown}:{port}", flush=True)
        server.serve_forever()
