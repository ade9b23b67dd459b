"""Opens connections to a server on this machine and keeps them idle.

    python3 tests/clients/idle_clients.py [PORT [COUNT [SECONDS]]]

The demo of v0.6's chapter: COUNT clients (default 100) that connect and
say nothing, for SECONDS (default 30), then close. While they wait, look
at what the server spends on them, in the terminal that started it with
`./server $PORT & pid=$!`:

    grep -E 'Threads|VmSize|VmRSS' /proc/$pid/status

Loopback only (127.0.0.1), PORT defaults to 9000. Ctrl-C ends it sooner.
Keep SECONDS below the server's IDLE_TIMEOUT (60 s by default), or the
server disconnects the clients first.
"""

import socket
import sys
import time


def main():
    args = [int(a) for a in sys.argv[1:4]]
    port, count, seconds = args + [9000, 100, 30][len(args):]
    clients = []
    try:
        for _ in range(count):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        print(f"{count} clients connected, idle for {seconds} s")
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        for c in clients:
            c.close()
    print(f"{len(clients)} clients closed")


if __name__ == "__main__":
    main()
