#!/usr/bin/env python3
"""load.py: an unfriendly LAN against one `tether serve`, on loopback only,
bounded in count and time (docs/BENCHMARKS.md, "The studio under load").

Usage: load.py PORT PID [SECONDS] [--idle N] [--slowloris N] [--stalled N] [--sse N]

At the same time, for SECONDS (default 60):
  - N idle connections that never send a byte (reopened when the server
    closes them after its idle timeout);
  - N slowloris connections sending a request's headers a byte at a time,
    one every few seconds;
  - N MJPEG viewers that ask for /stream.mjpg and never read;
  - N clients opening /api/events, reading its first bytes and leaving, in
    a loop;
while one normal viewer reads /stream.mjpg and a prober asks /api/status
every 50 ms on a new connection.  Measures: the normal viewer's frame rate
(against its rate alone just before), /api/status latency (p50, p99, max,
failures), the server's threads and RSS (from /proc/PID) before, during
and 5 s after.  Prints "key value" lines.  The figures are for
BENCHMARKS.md; nothing here passes or fails.
"""
import argparse
import socket
import statistics
import threading
import time


def proc(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


class Viewer(threading.Thread):
    """Reads /stream.mjpg and counts frames (boundaries)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.frames, self.stop, self.error = port, 0, False, None

    def run(self):
        try:
            s = connect(self.port)
            s.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            tail = b""
            while not self.stop:
                data = s.recv(256 * 1024)
                if not data:
                    self.error = "closed"
                    break
                buf = tail + data
                self.frames += buf.count(b"--tetherframe\r\n")
                tail = buf[-20:]
            s.close()
        except OSError as e:
            self.error = str(e)


def viewer_rate(port, seconds):
    v = Viewer(port)
    v.start()
    time.sleep(1)  # live view starts
    f0, t0 = v.frames, time.monotonic()
    time.sleep(seconds)
    rate = (v.frames - f0) / (time.monotonic() - t0)
    v.stop = True
    return rate, v


start = time.monotonic()
slow = []


def status_probe(port, deadline, lat, fails):
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        phase = "connect"
        try:
            s = connect(port, timeout=5)
            phase = "answer"
            s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            if data.startswith(b"HTTP/1.1 200"):
                lat.append(time.monotonic() - t0)
                slow.append((round(time.monotonic() - start, 1), round(lat[-1], 3))) if lat[-1] > 0.05 else None
            else:
                fails.append((round(time.monotonic() - start, 1), data[:40]))
        except OSError as e:
            fails.append((round(t0 - start, 1), phase, str(e)))
        time.sleep(0.05)


def idle_keeper(port, n, deadline, socks, reopened):
    """Holds n idle connections; reopens those the server closed."""
    for _ in range(n):
        socks.append(connect(port))
    while time.monotonic() < deadline:
        time.sleep(1)
        for i, s in enumerate(socks):
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    s.close()
                    socks[i] = connect(port)
                    reopened[0] += 1
            except BlockingIOError:
                pass
            except OSError:
                socks[i] = connect(port)
                reopened[0] += 1


def slowloris(port, n, deadline, socks):
    for _ in range(n):
        s = connect(port)
        s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        socks.append(s)
    while time.monotonic() < deadline:
        time.sleep(5)
        for i, s in enumerate(socks):
            try:
                s.sendall(b"X-a: b\r\n")
            except OSError:
                s.close()
                socks[i] = connect(port)
                socks[i].sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")


def stalled(port, n, socks):
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        socks.append(s)


def sse_churn(port, deadline, count):
    while time.monotonic() < deadline:
        try:
            s = connect(port)
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            s.recv(4096)
            s.close()
            count[0] += 1
        except OSError:
            pass
        time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("pid", type=int)
    ap.add_argument("seconds", type=float, nargs="?", default=60)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--slowloris", type=int, default=300)
    ap.add_argument("--stalled", type=int, default=200)
    ap.add_argument("--sse", type=int, default=4)
    a = ap.parse_args()
    pid, port = a.pid, a.port

    print("threads_before", proc(pid, "Threads"))
    print("rss_kb_before", proc(pid, "VmRSS"))
    alone, _ = viewer_rate(port, 5)
    print("viewer_fps_alone %.1f" % alone)

    deadline = time.monotonic() + a.seconds
    idle_socks, slow_socks, stalled_socks, reopened, churned = [], [], [], [0], [0]
    workers = [threading.Thread(target=idle_keeper, args=(port, a.idle, deadline, idle_socks, reopened), daemon=True),
               threading.Thread(target=slowloris, args=(port, a.slowloris, deadline, slow_socks), daemon=True)]
    workers += [threading.Thread(target=sse_churn, args=(port, deadline, churned), daemon=True) for _ in range(a.sse)]
    for w in workers:
        w.start()
    stalled(port, a.stalled, stalled_socks)
    time.sleep(2)  # everything is open
    viewer = Viewer(port)
    viewer.start()
    lat, fails = [], []
    prober = threading.Thread(target=status_probe, args=(port, deadline, lat, fails), daemon=True)
    prober.start()
    time.sleep(1)
    f0, t0 = viewer.frames, time.monotonic()
    peak_threads, rss_during = 0, []
    while time.monotonic() < deadline:
        peak_threads = max(peak_threads, proc(pid, "Threads"))
        rss_during.append(proc(pid, "VmRSS"))
        time.sleep(1)
    under = (viewer.frames - f0) / (time.monotonic() - t0)
    viewer.stop = True
    prober.join()
    for w in workers:
        w.join(timeout=10)
    for s in idle_socks + slow_socks + stalled_socks:
        s.close()
    print("connections_open %d" % (a.idle + a.slowloris + a.stalled))
    print("idle_reopened %d" % reopened[0])
    print("sse_clients_churned %d" % churned[0])
    print("viewer_fps_under_load %.1f" % under)
    print("viewer_fraction %.2f" % (under / alone if alone else 0))
    print("viewer_error %s" % (viewer.error or "none"))
    if lat:
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print("status_requests %d" % len(lat))
        print("status_p50_ms %.1f" % (1000 * statistics.median(lat)))
        print("status_p99_ms %.1f" % (1000 * p99))
        print("status_max_ms %.1f" % (1000 * lat[-1]))
    print("status_failures %d" % len(fails))
    if fails or slow:
        print("status_failed_or_slow_at", fails[:5], slow[:10])
    print("threads_peak %d" % peak_threads)
    print("rss_kb_peak %d" % max(rss_during or [0]))
    time.sleep(5)
    print("threads_after %d" % proc(pid, "Threads"))
    print("rss_kb_after %d" % proc(pid, "VmRSS"))


if __name__ == "__main__":
    main()
