#!/usr/bin/env python3
# v4l2_latency: N clients read a multipart MJPEG stream for S seconds and
# report, per client, the frames received (whole JPEGs: SOI to EOI) and
# the latency of each frame from its capture (the user-space V4L2
# device's COM marker "TETHERV4L2 seq=N mono_ns=T", CLOCK_MONOTONIC) to
# its arrival (the same clock).  Frames the server encoded itself (from
# YUYV, say) carry no marker: they are counted, and the latencies print
# as "-".
# Prints one line: frames_min frames_mean fps_mean p50_ms p95_ms
# Usage: v4l2_latency.py URL CLIENTS SECONDS
import re, socket, sys, threading, time, urllib.parse

url, clients, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
u = urllib.parse.urlparse(url)
marker = re.compile(rb'TETHERV4L2 seq=(\d+) mono_ns=(\d+)')
results = []
lock = threading.Lock()

def client():
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(f'GET {u.path} HTTP/1.1\r\nHost: {u.hostname}\r\n\r\n'.encode())
    end = time.monotonic() + secs
    buf = b''
    lat, seqs = [], set()
    frames = 0
    s.settimeout(1.0)
    while time.monotonic() < end:
        try:
            chunk = s.recv(1 << 16)
        except socket.timeout:
            continue
        if not chunk:
            break
        now = time.monotonic_ns()
        buf += chunk
        while True:
            soi = buf.find(b'\xff\xd8')
            if soi < 0:
                buf = buf[-1:]
                break
            eoi = buf.find(b'\xff\xd9', soi + 2)
            if eoi < 0:
                buf = buf[soi:]
                break  # the frame is not all here yet: its arrival is when it is
            frames += 1
            m = marker.search(buf, soi, eoi)
            if m:
                seq, t = int(m.group(1)), int(m.group(2))
                if seq not in seqs:
                    seqs.add(seq)
                    lat.append((now - t) / 1e6)
            buf = buf[eoi + 2:]
        if len(buf) > 1 << 22:
            buf = buf[-(1 << 16):]
    s.close()
    with lock:
        results.append((frames, lat))

threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
allv = sorted(v for _, r in results for v in r)
counts = [n for n, _ in results]
if not counts or max(counts) == 0:
    print('0 0 0 - -')
    sys.exit(0)
mean = sum(counts) / len(counts)
if not allv:
    print(f'{min(counts)} {mean:.1f} {mean / secs:.1f} - -')
    sys.exit(0)
p = lambda q: allv[min(len(allv) - 1, int(q * len(allv)))]
print(f'{min(counts)} {mean:.1f} {mean / secs:.1f} {p(0.5):.1f} {p(0.95):.1f}')
