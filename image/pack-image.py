#!/usr/bin/env python3
"""Packs directories into a reproducible Docker-format image tarball (`docker save` layout).

Used by tools/build-base-image.sh to make the operator's base image without a container runtime. Each
directory becomes one uncompressed layer; the output is byte-for-byte the same for the same input files:
entries are sorted, every timestamp is 0 (1970-01-01), owners are numeric (root, except the paths given with
--owner), and the config's "created" is the epoch too.

    pack-image.py --out base.tar --tag NAME:TAG --env K=V ... --label K=V ... \
        --layer DIR:DESCRIPTION [--layer DIR:DESCRIPTION ...] [--owner PATH=UID:GID ...] [--user UID:GID]

Jib reads the result with `from.image = tar:///path/to/base.tar`; `docker load`/`podman load` accept it as well.
"""
import argparse
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

EPOCH = "1970-01-01T00:00:00Z"


def layer_tar(root, owners):
    """Returns the bytes of an uncompressed, deterministic tar of the tree under root."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = []
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            for name in dirnames + filenames:
                paths.append(os.path.join(dirpath, name))
        paths.sort(key=lambda p: os.path.relpath(p, root).split(os.sep))
        for path in paths:
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            info = tarfile.TarInfo(rel)
            info.mtime = 0
            info.mode = stat.S_IMODE(st.st_mode)
            uid, gid = owners.get("/" + rel, (0, 0))
            info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
            if stat.S_ISLNK(st.st_mode):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(path)
                info.mode = 0o777
                tar.addfile(info)
            elif stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif stat.S_ISREG(st.st_mode):
                info.size = st.st_size
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                sys.exit(f"pack-image: unsupported file type: {path}")
    return buf.getvalue()


def key_values(items):
    out = {}
    for item in items or []:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--layer", action="append", required=True, help="DIR:DESCRIPTION")
    p.add_argument("--env", action="append", help="K=V (image environment, in order)")
    p.add_argument("--label", action="append", help="K=V")
    p.add_argument("--owner", action="append", help="/PATH=UID:GID (default owner is 0:0)")
    p.add_argument("--user", default="")
    p.add_argument("--workdir", default="/")
    p.add_argument("--arch", default="amd64", choices=["amd64", "arm64"], help="the image's architecture (linux)")
    a = p.parse_args()

    owners = {}
    for o in a.owner or []:
        path, _, ids = o.partition("=")
        uid, _, gid = ids.partition(":")
        owners[path.rstrip("/")] = (int(uid), int(gid))

    layers = []
    for spec in a.layer:
        d, _, desc = spec.partition(":")
        data = layer_tar(d, owners)
        layers.append((hashlib.sha256(data).hexdigest(), data, desc or d))

    config = {
        "architecture": a.arch,
        "os": "linux",
        "created": EPOCH,
        "config": {
            "Env": a.env or [],
            "User": a.user,
            "WorkingDir": a.workdir,
            "Labels": dict(sorted(key_values(a.label).items())),
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h for h, _, _ in layers]},
        "history": [{"created": EPOCH, "created_by": desc, "comment": "tools/build-base-image.sh"}
                    for _, _, desc in layers],
    }
    if a.arch == "arm64":
        config["variant"] = "v8"
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{
        "Config": config_name,
        "RepoTags": [a.tag],
        "Layers": [h + "/layer.tar" for h, _, _ in layers],
    }]

    def add(tar, name, data, mode=0o644, dir_entry=False):
        info = tarfile.TarInfo(name)
        info.mtime = 0
        info.uid = info.gid = 0
        if dir_entry:
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        else:
            info.mode = mode
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for h, data, _ in layers:
            add(tar, h, b"", dir_entry=True)
            add(tar, h + "/layer.tar", data)
        add(tar, config_name, config_bytes)
        add(tar, "manifest.json", json.dumps(manifest, separators=(",", ":")).encode())
    os.replace(tmp, a.out)
    print(json.dumps({"config": config_name[:-5], "layers": [h for h, _, _ in layers]}))


if __name__ == "__main__":
    main()
