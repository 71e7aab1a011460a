# A concurrent client that samples latency while a bench case runs; stops
# when STOPFILE exists (or after 600 s) and prints
# "samples=N p50_ms=X p99_ms=X max_ms=X".
#   python3 bench/latency.py redis PORT STOPFILE       GET probe (db 0), every 1 ms
#   python3 bench/latency.py pg DSN N STOPFILE         single-row SELECT and UPDATE of a
#                                                      random key :1:k1..kN, alternately,
#                                                      autocommit, every 1 ms
# It writes READYFILE (STOPFILE + ".ready") once connected.
import os, random, socket, sys, time

mode = sys.argv[1]
stop = sys.argv[-1]
samples = []
end = time.time() + 600
if mode == "redis":
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def probe():
        s.sendall(b"*2\r\n$3\r\nGET\r\n$5\r\nprobe\r\n")
        s.recv(64)
elif mode == "pg":
    import psycopg2
    conn = psycopg2.connect(sys.argv[2])
    conn.autocommit = True
    cur = conn.cursor()
    n = int(sys.argv[3])
    flip = [False]

    def probe():
        k = ":1:k%d" % random.randint(1, n)
        flip[0] = not flip[0]
        if flip[0]:
            cur.execute("SELECT cache_key, value, expires FROM cache WHERE cache_key = %s", (k,))
            cur.fetchall()
        else:
            cur.execute("UPDATE cache SET expires = expires WHERE cache_key = %s", (k,))
else:
    sys.exit("latency.py: mode is redis or pg")
open(stop + ".ready", "w").close()
while time.time() < end and not os.path.exists(stop):
    t0 = time.perf_counter()
    try:
        probe()
    except Exception as e:  # the server went away: report what was sampled
        print("latency.py: %s" % e, file=sys.stderr)
        break
    samples.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.001)
samples.sort()
n = len(samples)
if n == 0:
    print("samples=0")
else:
    print("samples=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f" % (n, samples[n // 2], samples[min(n - 1, int(n * 0.99))], samples[-1]))
