#!/usr/bin/env python3
"""Tiny RTP helper for selftest.sh.

  rtp_tool.py echo DEST_IP DEST_PORT LOCAL_PORT COUNT
      send COUNT PCMU packets (20 ms apart) from LOCAL_PORT, count echoes.
  rtp_tool.py sink LOCAL_PORT SECONDS
      receive RTP for SECONDS, summarize payload types / sizes / sources.
Prints one summary line; exit status 0.
"""
import collections, socket, struct, sys, time


def echo(dest_ip, dest_port, local_port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", local_port))
    s.setblocking(False)
    got, seqs, srcs = 0, set(), set()

    def drain():
        nonlocal got
        while True:
            try:
                d, a = s.recvfrom(2048)
            except BlockingIOError:
                return
            got += 1
            seqs.add(struct.unpack("!H", d[2:4])[0])
            srcs.add("%s:%d" % a)

    t0 = time.monotonic()
    for i in range(n):
        s.sendto(struct.pack("!BBHII", 0x80, 0, i, i * 160, 0x5EED) + b"\xff" * 160,
                 (dest_ip, dest_port))
        while time.monotonic() < t0 + (i + 1) * 0.02:
            drain()
            time.sleep(0.002)
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        drain()
        time.sleep(0.005)
    print(f"sent={n} echoed={got} unique_seq={len(seqs)} from={sorted(srcs)}")


def sink(port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.1)
    pts, sizes, srcs, n, first, last = collections.Counter(), collections.Counter(), set(), 0, None, None
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            d, a = s.recvfrom(4096)
        except socket.timeout:
            continue
        n += 1
        pts[d[1] & 0x7F] += 1
        sizes[len(d) - 12] += 1
        srcs.add("%s:%d" % a)
        first = first or time.monotonic()
        last = time.monotonic()
    span = (last - first) if n else 0.0
    print(f"pkts={n} pt={dict(pts)} payload_sizes={dict(sizes)} from={sorted(srcs)} span={span:.2f}s")


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sink(int(sys.argv[2]), float(sys.argv[3]))
