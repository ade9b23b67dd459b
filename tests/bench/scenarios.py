"""What loadgen sends: the protocols each server speaks, and the scenarios."""

import dataclasses

from harness import LIST_REPLY, STAGES


@dataclasses.dataclass
class Protocol:
    """The request each scenario sends, and the reply it must get."""
    get: bytes
    get_reply: bytes
    post: bytes         # "%k" becomes a key from 0 to 99, in turn
    post_reply: bytes
    note: str = ""


GET = b"GET/task_01/status\n"
# POSTs go to 100 keys of their own: the list stays far from its 1024 tasks,
# and task_01, which every GET reads, never changes.
POST = b"POST/bench_%k=done/status\n"
TODO = Protocol(GET, b"see someone\r\n", POST, b"submit success\r\n")
PROTOCOLS = {
    "list": Protocol(GET, LIST_REPLY, POST, LIST_REPLY,
                     "v0.4 answers every request with the whole list"),
    "get": Protocol(GET, b"see someone\r\n", POST, b"data no found\r\n",
                    "v0.5 has no POST: (c)'s POSTs get `data no found`"),
    "post": TODO,
}
REDIS = Protocol(b"GET task_01\r\n", b"$11\r\nsee someone\r\n",
                 b"SET bench_%k done\r\n", b"+OK\r\n")


def stage_protocol(stage):
    features = STAGES[stage]
    return PROTOCOLS[next(f for f in ("list", "post", "get") if f in features)]


def escaped(data):
    """bytes as loadgen's command line writes them."""
    return (data.decode().replace("\\", "\\\\").replace("\r", "\\r")
            .replace("\n", "\\n"))


@dataclasses.dataclass
class Scenario:
    key: str
    title: str
    connections: int
    posts: int = 0              # percent of requests that are POSTs
    connect_each: bool = False  # a new connection per request
    idle: int = 0               # more connections, silent while measured

    def loadgen_args(self, protocol):
        args = ["-c", str(self.connections), "-i", str(self.idle),
                "-q", escaped(protocol.get), "-a", escaped(protocol.get_reply)]
        if self.posts:
            args += ["-p", str(self.posts), "-Q", escaped(protocol.post),
                     "-A", escaped(protocol.post_reply)]
        if self.connect_each:
            args.append("-n")
        return args


SCENARIOS = [
    Scenario("a", "1 connection, GET: latency", 1),
    Scenario("b", "50 connections, GET", 50),
    Scenario("c", "50 connections, 90% GET 10% POST", 50, posts=10),
    Scenario("d", "1000 connections held open, GET", 1000),
    Scenario("e", "20 clients, a connection per request", 20,
             connect_each=True),
    # Where select() stops scaling. It scans every descriptor on every
    # call, so idle connections cost it; not epoll.
    Scenario("f", "50 connections busy, 950 open and idle, GET", 50, idle=950),
]
ALL_SCENARIOS = "".join(s.key for s in SCENARIOS)
