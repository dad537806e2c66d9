#!/usr/bin/env python3
"""Unpacks a .deb's files into a folder, as `dpkg -x DEB DIR` does, for machines without dpkg:
a .deb is an ar archive whose data.tar.{xz,gz,bz2} holds the files. Usage: undeb.py DEB DIR"""
import io
import sys
import tarfile

deb, target = sys.argv[1], sys.argv[2]
with open(deb, "rb") as f:
    data = f.read()
if not data.startswith(b"!<arch>\n"):
    sys.exit(f"{deb}: not an ar archive")
pos = 8
while pos + 60 <= len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith("data.tar"):
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            tar.extractall(target, filter="fully_trusted") if hasattr(tarfile, "data_filter") else tar.extractall(target)
        break
    pos += 60 + size + (size & 1)
else:
    sys.exit(f"{deb}: no data.tar member")
