"""h2 against jh2 on the client's side of HTTP/2, with no I/O: which library the simple engine uses.

    python bench/h2_libraries.py [requests]     (needs both h2 and jh2 installed)

Small GETs: the client encodes a request's HEADERS, a server connection of the same library
answers (HEADERS + 13 bytes of DATA), and the client decodes the answer and returns the window;
only the client's part is timed. Then a 16 MiB download in 16 KiB DATA frames: the client's
receive rate. Each library runs in a fresh connection pair; run it twice, the machine is noisy.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any

REQUEST = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"127.0.0.1:8443"),
    (b":path", b"/small"),
    (b"accept", b"*/*"),
    (b"user-agent", b"squall/0.1"),
    (b"accept-encoding", b"gzip"),
]
RESPONSE = [
    (b":status", b"200"),
    (b"content-type", b"text/plain"),
    (b"content-length", b"13"),
    (b"date", b"Tue, 01 Dec 2026 20:00:00 GMT"),
]


def pair(lib: str) -> tuple[Any, Any, Any]:
    connection = importlib.import_module(lib + ".connection")
    config = importlib.import_module(lib + ".config")
    events = importlib.import_module(lib + ".events")
    make = connection.H2Connection
    client = make(config.H2Configuration(client_side=True, header_encoding=None))
    server = make(config.H2Configuration(client_side=False, header_encoding=None))
    client.initiate_connection()
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    return client, server, events


def small_gets(lib: str, n: int) -> float:
    client, server, events = pair(lib)
    spent = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, REQUEST, end_stream=True)
        out = client.data_to_send()
        t1 = time.perf_counter()
        server.receive_data(out)
        server.send_headers(sid, RESPONSE)
        server.send_data(sid, b"Hello, world!", end_stream=True)
        back = server.data_to_send()
        t2 = time.perf_counter()
        for event in client.receive_data(back):
            if isinstance(event, events.DataReceived):
                client.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        acks = client.data_to_send()
        spent += (t1 - t0) + (time.perf_counter() - t2)
        server.receive_data(acks)
    return spent / n * 1e6


def download(lib: str, size: int = 16 << 20) -> float:
    client, server, events = pair(lib)
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    server.send_headers(sid, RESPONSE[:2])
    client.receive_data(server.data_to_send())
    chunk, sent, spent = b"x" * 16384, 0, 0.0
    while sent < size:
        room = min(server.local_flow_control_window(sid), len(chunk))
        if room <= 0:
            server.receive_data(client.data_to_send())
            continue
        server.send_data(sid, chunk[:room])
        sent += room
        data = server.data_to_send()
        t0 = time.perf_counter()
        for event in client.receive_data(data):
            if isinstance(event, events.DataReceived):
                client.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        spent += time.perf_counter() - t0
    return size / spent / 1e6


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    for lib in ("h2", "jh2"):
        per_get, rate = small_gets(lib, count), download(lib)
        print(f"{lib}: {per_get:.0f} us per small GET, {rate:.0f} MB/s down")
