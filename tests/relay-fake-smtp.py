#!/usr/bin/env python3
"""A scripted next hop for tests/relay.bats: an SMTP server on
127.0.0.1:PORT that answers per recipient as told, records what the client
sent (commands and the raw DATA bytes, still dot-stuffed) in LOG, and
serves connections until killed.

  relay-fake-smtp.py PORT LOG [--helo-only] [--pipelining] [--size N]
                     [--broken-tls] [--rcpt ADDR=REPLY]...

--broken-tls offers STARTTLS, says 220 to it, then answers the handshake
with plain text and hangs up.
"""
import socket
import sys


def main():
    port, log = int(sys.argv[1]), sys.argv[2]
    helo_only = pipelining = broken_tls = False
    size = None
    rcpt = {}
    args = sys.argv[3:]
    while args:
        a = args.pop(0)
        if a == '--helo-only':
            helo_only = True
        elif a == '--pipelining':
            pipelining = True
        elif a == '--broken-tls':
            broken_tls = True
        elif a == '--size':
            size = int(args.pop(0))
        elif a == '--rcpt':
            addr, reply = args.pop(0).split('=', 1)
            rcpt[addr.lower()] = reply
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', port))
    srv.listen(5)
    open(log + '.ready', 'w').close()
    while True:
        c, _ = srv.accept()
        serve(c, open(log, 'ab'), helo_only, pipelining, broken_tls, size, rcpt)


def serve(c, out, helo_only, pipelining, broken_tls, size, rcpt):
    f = c.makefile('rb')
    c.sendall(b'220 fake.test ESMTP\r\n')
    while True:
        line = f.readline()
        if not line:
            break
        out.write(b'C: ' + line)
        out.flush()
        verb = line[:4].upper()
        if verb == b'EHLO':
            if helo_only:
                c.sendall(b'502 5.5.1 no ESMTP here\r\n')
                continue
            caps = [b'250-fake.test']
            if pipelining:
                caps.append(b'250-PIPELINING')
            if broken_tls:
                caps.append(b'250-STARTTLS')
            if size is not None:
                caps.append(b'250-SIZE %d' % size)
            caps.append(b'250 8BITMIME')
            c.sendall(b'\r\n'.join(caps) + b'\r\n')
        elif line.upper().startswith(b'STARTTLS'):
            c.sendall(b'220 go ahead\r\n')
            c.recv(4096)
            c.sendall(b'this is not TLS\r\n')
            break
        elif verb == b'RCPT':
            addr = line.decode().split('<', 1)[1].split('>', 1)[0].lower()
            c.sendall(rcpt.get(addr, '250 2.1.5 ok').encode() + b'\r\n')
        elif verb == b'DATA':
            c.sendall(b'354 go ahead\r\n')
            data = b''
            while True:
                d = f.readline()
                if not d or d == b'.\r\n':
                    break
                data += d
            out.write(b'D: ' + str(len(data)).encode() + b'\n' + data + b'D: end\n')
            out.flush()
            c.sendall(b'250 2.0.0 queued\r\n')
        elif verb == b'QUIT':
            c.sendall(b'221 bye\r\n')
            break
        else:
            c.sendall(b'250 ok\r\n')
    c.close()


if __name__ == '__main__':
    main()
