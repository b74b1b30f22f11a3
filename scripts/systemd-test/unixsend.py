# Sends stdin to a unix stream socket and prints the answer (the rootfs has
# no socat): the test talks to haproxy's master socket with it.
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
sys.exit(0 if out else 1)
