#!/usr/bin/env python3
"""Every kstrand HTTP server bounds what one client can cost.

Starts the embedded broker (its control channel), `kstrand consume --http`
(the status server), users-api and the tutorial's leaderboard, and against
each one checks:
  - a 200 MiB chunked upload is answered 413 while it is sent, and the
    server's peak RSS grows by less than 8 MiB;
  - a 200 MiB body without a length (read to the end of the connection) and
    a declared 200 MiB Content-Length get 413 at once;
  - an over-long header line, a malformed request line and a malformed
    chunk size get a 4xx whose body names the problem, never a 5xx;
  - 300 slow-loris connections dribbling their headers do not keep a normal
    request from being answered within 2 s, and are themselves answered 408.

Usage: http_limits_test.py KSTRAND USERS_API LEADERBOARD
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

KSTRAND, USERS_API, LEADERBOARD = sys.argv[1:4]
work = tempfile.mkdtemp(prefix="kstrand-http-limits.")
env = dict(os.environ, XDG_RUNTIME_DIR=work)  # the broker's address file, private to this run
procs = []
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def start(name, *cmd):
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    procs.append((name, p))
    return p


def wait_for_url(name, pattern, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        text = open(os.path.join(work, name + ".log")).read()
        m = re.search(pattern, text)
        if m:
            return m.group(1)
        time.sleep(0.2)
    raise SystemExit(f"{name}: no address in its log within {seconds}s:\n{text[-2000:]}")


def rss_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, seconds=10):
    """The status and body of the first response on `s` (None if there is none)."""
    s.settimeout(seconds)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            more = s.recv(65536)
            if not more:
                break
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"content-length:\s*(\d+)", head, re.I)
        while m and len(body) < int(m.group(1)):
            more = s.recv(65536)
            if not more:
                break
            body += more
    except (socket.timeout, ConnectionError):
        pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return (int(m.group(1)), body.decode(errors="replace")) if m else (None, data.decode(errors="replace"))


def upload(port, path, chunked, total=200 << 20):
    """Sends a `total`-byte POST; stops when the server answers or closes."""
    s = connect(port)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else "Connection: close\r\n\r\n"
    s.sendall(head.encode())
    piece = b"x" * (64 << 10)
    frame = (b"%x\r\n" % len(piece)) + piece + b"\r\n" if chunked else piece
    sent = 0
    try:
        s.settimeout(10)
        while sent < total:
            s.sendall(frame)
            sent += len(piece)
            s.setblocking(False)
            try:
                if s.recv(1, socket.MSG_PEEK):
                    break  # an answer already
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
                s.settimeout(10)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    status, body = read_response(s)
    s.close()
    return status, body, sent


def raw(port, data):
    s = connect(port)
    s.sendall(data)
    status, body = read_response(s, 15)
    s.close()
    return status, body


def probe(name, pid, port, post_path):
    print(f"== {name} (port {port})", flush=True)
    for _ in range(3):  # warm up: the first requests start threads and buffers
        raw(port, b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    before = rss_kib(pid, "VmHWM")
    status, body, sent = upload(port, post_path, chunked=True)
    grown = rss_kib(pid, "VmHWM") - before
    check(status == 413 and "over" in body,
          f"{name}: 200 MiB chunked upload answered {status} {body.strip()} after {sent >> 20} MiB sent")
    check(grown < 8 << 10, f"{name}: peak RSS grew {grown} KiB during it (< 8 MiB)")
    status, body, _ = upload(port, post_path, chunked=False)
    check(status == 413, f"{name}: a body without a length answered {status} {body.strip()}")
    status, body = raw(port, f"POST {post_path} HTTP/1.1\r\nHost: x\r\nContent-Length: {200 << 20}\r\n\r\n".encode())
    check(status == 413 and "Content-Length" in body, f"{name}: declared 200 MiB answered {status} {body.strip()}")
    status, body = raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    check(status == 431 and "header line" in body, f"{name}: 9000-byte header line answered {status} {body.strip()}")
    status, body = raw(port, b"GARBAGE\r\n\r\n")
    check(status == 400 and "request line" in body, f"{name}: a malformed request line answered {status} {body.strip()}")
    status, body = raw(port, f"POST {post_path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n".encode())
    check(status == 400 and "chunked" in body, f"{name}: a malformed chunk size answered {status} {body.strip()}")

    loris = []
    for _ in range(300):
        s = connect(port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        loris.append(s)
    started = time.time()
    status, _ = raw(port, b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    took = time.time() - started
    check(status is not None and status < 500 and took < 2,
          f"{name}: with 300 slow-loris connections open, a normal request answered {status} in {took:.2f} s")
    for s in loris[:50]:
        s.sendall(b"X-Slow: 1\r\n")  # a dribble does not extend the header deadline
    status, body = read_response(loris[0], 15)
    check(status == 408, f"{name}: a slow-loris connection answered {status} {body.strip()}")
    for s in loris:
        s.close()


try:
    broker = start("broker", KSTRAND, "broker", "--control-port", "0", "--topic", "users:2", "--topic", "scores:2")
    control = wait_for_url("broker", r"control (http://\S+)")
    control_port = int(control.rsplit(":", 1)[1])

    consume = start("consume", KSTRAND, "consume", "-t", "scores", "-G", "limits", "--http", "0")
    status_url = wait_for_url("consume", r"dashboard: (http://\S+)")
    users = start("users", USERS_API, "--http", "0", "--partitions", "2")
    users_url = wait_for_url("users", r"(http://127\.0\.0\.1:\d+)")
    board = start("leaderboard", LEADERBOARD, "--http", "0")
    board_url = wait_for_url("leaderboard", r"(http://127\.0\.0\.1:\d+)")

    probe("broker control channel", broker.pid, control_port, "/topics")
    probe("status server", consume.pid, int(status_url.rsplit(":", 1)[1].rstrip("/")), "/metrics")
    probe("users-api", users.pid, int(users_url.rsplit(":", 1)[1]), "/users")
    probe("leaderboard", board.pid, int(board_url.rsplit(":", 1)[1]), "/scores")
    for name, p in procs:
        check(p.poll() is None, f"{name} still running")
finally:
    for _, p in procs:
        p.terminate()
    for name, p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
    if failures:
        for name, _ in procs:
            print(f"--- {name}.log (tail)")
            print(open(os.path.join(work, name + ".log")).read()[-1500:])
    shutil.rmtree(work, ignore_errors=True)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
