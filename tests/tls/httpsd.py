#!/usr/bin/env python3
"""httpsd.py - a small HTTPS server for the MTA-STS tests, loopback only.

usage: httpsd.py ADDR PORTFILE CERT KEY DOCROOT

Binds ADDR on an ephemeral port, writes the port to PORTFILE (atomically)
and serves requests by their Host header (any :port removed):
  DOCROOT/HOST           the body of a 200 response
  DOCROOT/HOST.status    instead: "CODE [LOCATION]" (404, 301 https://...)
  DOCROOT/HOST.type      Content-Type (default text/plain); "-" sends none
  DOCROOT/HOST.chunked   present: the body goes out chunked
  DOCROOT/HOST.cert      present: "CERT KEY" served for that SNI name
Only GET /.well-known/mta-sts.txt is known; anything else gets 404. Each
request is logged to stderr as "HOST PATH CODE". Exits after 300 s.
"""
import http.server
import os
import ssl
import sys
import threading

PATH = "/.well-known/mta-sts.txt"


def main():
    if len(sys.argv) != 6:
        sys.stderr.write(__doc__)
        sys.exit(64)
    addr, portfile, cert, key, root = sys.argv[1:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    alt = {}

    def sni(sock, name, _ctx):
        if name is None:
            return None
        f = os.path.join(root, os.path.basename(name) + ".cert")
        if os.path.exists(f):
            if name not in alt:
                c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                c.load_cert_chain(*open(f).read().split())
                alt[name] = c
            sock.context = alt[name]
        return None

    ctx.sni_callback = sni

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            base = os.path.join(root, os.path.basename(host))
            code, location, body = 404, None, b"not found\n"
            ctype = "text/plain"
            if self.path == PATH and host and os.path.exists(base):
                with open(base, "rb") as f:
                    body = f.read()
                code = 200
                if os.path.exists(base + ".status"):
                    words = open(base + ".status").read().split()
                    code = int(words[0])
                    location = words[1] if len(words) > 1 else None
                    body = b"see elsewhere\n"
                if os.path.exists(base + ".type"):
                    ctype = open(base + ".type").read().strip()
            sys.stderr.write("%s %s %d\n" % (host, self.path, code))
            sys.stderr.flush()
            self.send_response(code)
            if ctype != "-":
                self.send_header("Content-Type", ctype)
            if location:
                self.send_header("Location", location)
            self.send_header("Connection", "close")
            chunked = code == 200 and os.path.exists(base + ".chunked")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(body), 7):
                    part = body[i:i + 7]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            self.close_connection = True

    class Server(http.server.ThreadingHTTPServer):
        def get_request(self):
            sock, peer = self.socket.accept()
            return ctx.wrap_socket(sock, server_side=True), peer

        def handle_error(self, request, client_address):
            sys.stderr.write("error from %s: %s\n" %
                             (client_address, sys.exc_info()[1]))

    srv = Server((addr, 0), Handler)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    threading.Timer(300, lambda: os._exit(2)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
