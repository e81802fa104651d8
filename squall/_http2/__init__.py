"""HTTP/2 for the simple engine: jh2 (sans-I/O) driven by one asyncio Protocol per connection.

- ``headers.py``: the request's fields as an HTTP/2 header list, and the response's back.
- ``upload.py``: a stream's upload (DATA frames as the windows allow, 100-continue).
- ``stream.py``: one request/response on a stream: the response sink, on the upload.
- ``connection_base.py``: a connection's jh2 set-up, state and what the engine asks
  (open, reset, window back, write, close).
- ``connection.py``: one connection: the Protocol feeding jh2 and dispatching its events.
- ``engine.py``: ``HTTP2Engine``, one pooled connection per origin carrying many streams.

``squall._simple_engine.SimpleEngine`` sends each request to HTTP/1.1 or here. jh2 is
optional (the ``http2`` extra); only ``engine.py`` and what it imports need it, and
``SimpleEngine`` imports them only when a request asks for HTTP/2.
"""
