#!/usr/bin/env python3
"""A stand-in OpenTelemetry collector for the tests: OTLP/HTTP with JSON bodies, stdlib only.

otlp-receiver.py PORT_FILE OUT_FILE [SECONDS]: listens on 127.0.0.1 (a free port, written to
PORT_FILE once listening), and appends the body of each POST to /v1/traces whose
Content-Type is application/json and whose body is a JSON object to OUT_FILE, one line
each, answering 200 with an empty ExportTraceServiceResponse; anything else gets 4xx and
is not recorded. It exits by itself after SECONDS (default 120) or on SIGTERM.
"""
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v1/traces":
            return self.answer(404, {"message": "not found"})
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self.answer(415, {"message": "application/json only"})
        try:
            request = json.loads(body)
        except ValueError as e:
            return self.answer(400, {"message": str(e)})
        if not isinstance(request, dict) or "resourceSpans" not in request:
            return self.answer(400, {"message": "not an ExportTraceServiceRequest"})
        with open(self.server.out_file, "ab") as out:
            out.write(body.rstrip(b"\n") + b"\n")
        self.answer(200, {})

    def answer(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    port_file, out_file = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.out_file = out_file
    open(out_file, "wb").close()
    stop = lambda *_: threading.Thread(target=server.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    threading.Timer(seconds, stop).start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()
    os._exit(0)


if __name__ == "__main__":
    main()
