# HTTP edge cases of `linlearn serve` over real sockets (docs/RELIABILITY.md): ambiguous
# framing refused (RFC 9112 6.3), Transfer-Encoding other than chunked 501, a 7 MB body sent
# without Expect: 100-continue answered 413 (not a broken pipe), 405 with Allow, and a deadline
# on request heads so slow clients cannot hold the server (while /ping keeps answering).
. tests/cli/lib.sh
NAME=cli_serve_http
B=$TD/datasets/breast_cancer
$LL train --train $B/train.csv -H predictor_type=binary_classifier -H epochs=1 --model-dir $T/m \
    --threads 1 >/dev/null 2>&1
$LL serve --model $T/m/model.tar.gz --port 0 --threads 2 --timeout 6 --header-timeout 2 \
    2>$T/serve.log & sp=$!
PORT=
for i in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9][0-9]*\).*/\1/p' $T/serve.log)
    [ -n "$PORT" ] && break
    sleep 0.1
done
check "server up" test -n "$PORT"

cat >$T/h.py <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
case = sys.argv[2]
ROW = b",".join([b"1.5"] * 30) + b"\n"

def talk(data, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            k = s.recv(65536)
            if not k:
                break
            out += k
    except socket.timeout:
        out += b"<timeout>"
    s.close()
    return out

def status(out):
    return out.split(b"\r\n", 1)[0].decode("latin-1")

def expect(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)

H = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nConnection: close\r\n"
if case == "ok":
    out = talk(H + b"Content-Length: %d\r\n\r\n" % len(ROW) + ROW)
    expect(status(out).endswith("200 OK"), status(out))
elif case == "two-cl":
    out = talk(H + b"Content-Length: %d\r\nContent-Length: 4\r\n\r\n" % len(ROW) + ROW)
    expect(" 400 " in status(out) and b"Content-Length" in out, out[:200])
elif case == "same-cl":  # repeated but equal: one length, allowed
    out = talk(H + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(ROW), len(ROW)) + ROW)
    expect(status(out).endswith("200 OK"), out[:200])
elif case == "te-gzip":
    out = talk(H + b"Transfer-Encoding: gzip\r\n\r\n" + ROW)
    expect(" 501 " in status(out) and b"gzip" in out, out[:200])
elif case == "te-cl":
    out = talk(H + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\n1,2,3\r\n0\r\n\r\n")
    expect(" 400 " in status(out), out[:200])
elif case == "chunked":
    out = talk(H + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(ROW) + ROW + b"\r\n0\r\n\r\n")
    expect(status(out).endswith("200 OK"), out[:200])
elif case == "options":
    out = talk(b"OPTIONS /invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    expect(" 405 " in status(out) and b"\r\nAllow: POST\r\n" in out, out[:300])
    out = talk(b"DELETE /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    expect(" 405 " in status(out) and b"\r\nAllow: GET, HEAD\r\n" in out, out[:300])
elif case == "garbage":
    out = talk(b"HELLO\x01 WORLD\r\n\r\n")
    expect(" 400 " in status(out), out[:200])
elif case == "big":  # 7 MB, no Expect: the whole body is sent, then the 413 read
    body = ROW * (7 * 1024 * 1024 // len(ROW))
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    s.sendall(body)  # raised BrokenPipeError before
    out = s.recv(4096)
    expect(" 413 " in status(out), out[:200])
elif case == "big-expect":  # asked first: refused at once, nothing sent
    out = talk(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
               b"Expect: 100-continue\r\nContent-Length: 7340032\r\n\r\n")
    expect(" 413 " in status(out), out[:200])
elif case == "slow":  # many clients trickling headers: closed at the deadline, /ping answers
    socks = []
    for i in range(200):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /ping HTTP/1.1\r\n")
        socks.append(s)
    t0 = time.time()
    out = talk(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=3)
    expect(status(out).endswith("200 OK"), "ping while slow clients wait: %r" % out[:100])
    expect(time.time() - t0 < 2, "ping took %.1f s" % (time.time() - t0))
    # keep trickling a byte every 0.3 s: the idle timeout (6 s) alone would never fire
    closed = 0
    t0 = time.time()
    while time.time() - t0 < 5 and closed < len(socks):
        closed = 0
        for s in socks:
            try:
                s.sendall(b"X")
            except OSError:
                closed += 1
        time.sleep(0.3)
    took = time.time() - t0
    expect(closed == len(socks), "%d of %d slow clients closed in %.1f s" % (closed, len(socks), took))
    print("slow clients closed after %.1f s" % took)
print("ok", case)
EOF
for c in ok two-cl same-cl te-gzip te-cl chunked options garbage big big-expect slow; do
    check "$c" /usr/bin/python3 $T/h.py $PORT $c
done
check "still serving after all that" /usr/bin/python3 $T/h.py $PORT ok
kill $sp; wait $sp
finish
