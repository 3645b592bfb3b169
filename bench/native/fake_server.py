#!/usr/bin/env python3
"""A misbehaving TCP server on 127.0.0.1 for check_tcp_load.sh: prints
"port N", then serves every connection in one way until killed:
  echo     echoes what it reads (the good case)
  silent   reads and never answers (a hung server)
  corrupt  echoes with the first byte of every read changed
  close    closes each connection at once"""
import socket
import sys
import threading


def serve(conn, mode):
    with conn:
        if mode == "close":
            return
        while True:
            data = conn.recv(65536)
            if not data:
                return
            if mode == "silent":
                continue
            if mode == "corrupt":
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            conn.sendall(data)


def main():
    mode = sys.argv[1]
    if mode not in ("echo", "silent", "corrupt", "close"):
        sys.exit("fake_server.py: unknown mode " + mode)
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(128)
    print("port", lst.getsockname()[1], flush=True)
    while True:
        conn, _ = lst.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
