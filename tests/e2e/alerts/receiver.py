#!/usr/bin/python3
"""A webhook receiver for flow's alert tests: an HTTP server on 127.0.0.1 that appends each
request as one JSON line {"method", "path", "headers", "body"} to LOG and answers STATUS
(default 200). It binds port 0 and writes the port it got to PORTFILE (atomically), so the
test knows where to point flow.

usage: receiver.py PORTFILE LOG [STATUS]
"""
import http.server
import json
import os
import sys


def main():
    portfile, log = sys.argv[1], sys.argv[2]
    status = int(sys.argv[3]) if len(sys.argv) > 3 else 200

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            line = json.dumps({"method": self.command, "path": self.path,
                               "headers": {k.lower(): v for k, v in self.headers.items()},
                               "body": body})
            with open(log, "a") as f:
                f.write(line + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = handle_any
        do_GET = handle_any
        do_PUT = handle_any

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
