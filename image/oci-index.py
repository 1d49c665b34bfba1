#!/usr/bin/env python3
"""Assembles single-architecture image tarballs into one multi-architecture OCI image layout (an image index).

Each input is a Docker-format image archive (`docker save` layout), as Jib's buildTar writes it: one per
architecture, built on that architecture's base (tools/build-base-image.sh --arch ...). The output is an OCI image
layout directory whose index.json is an image index with one image manifest per input, each with its platform
(os/architecture from the image's own config), ready for `crane push --index DIR REPO:TAG`. Blobs are copied as they
are (Jib's layers are gzip-compressed already; an uncompressed layer is compressed deterministically), so the
layer digests stay those of the single-architecture images.

    oci-index.py --out DIR --image PATH.tar [--image PATH.tar ...] [--annotation KEY=VALUE ...]

Prints a JSON summary: the index digest and, per platform, the manifest and config digests.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    def __init__(self, out):
        self.out = out
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(os.path.join(out, "blobs", "sha256"))
        with open(os.path.join(out, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(self, data):
        digest = sha256(data)
        path = os.path.join(self.out, "blobs", "sha256", digest.split(":", 1)[1])
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        return {"digest": digest, "size": len(data)}


def gzip_deterministic(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(data)
    return buf.getvalue()


def add_image(layout, path):
    with tarfile.open(path) as t:
        entries = json.load(t.extractfile("manifest.json"))
        if len(entries) != 1:
            sys.exit(f"oci-index: {path} holds {len(entries)} images, expected one")
        entry = entries[0]
        config_bytes = t.extractfile(entry["Config"]).read()
        config = json.loads(config_bytes)
        layers = []
        for name in entry["Layers"]:
            data = t.extractfile(name).read()
            if data[:2] != b"\x1f\x8b":
                data = gzip_deterministic(data)
            desc = layout.put(data)
            desc["mediaType"] = LAYER_GZIP
            layers.append(desc)
    if len(layers) != len(config["rootfs"]["diff_ids"]):
        sys.exit(f"oci-index: {path}: {len(layers)} layers but {len(config['rootfs']['diff_ids'])} diff_ids")
    config_desc = layout.put(config_bytes)
    config_desc["mediaType"] = CONFIG
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc, "layers": layers}
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    desc = layout.put(manifest_bytes)
    desc["mediaType"] = MANIFEST
    platform = {"architecture": config["architecture"], "os": config["os"]}
    if config.get("variant"):
        platform["variant"] = config["variant"]
    desc["platform"] = platform
    return desc, config_desc["digest"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--image", action="append", required=True, help="a single-architecture docker-archive tarball")
    p.add_argument("--annotation", action="append", default=[], help="KEY=VALUE on the index")
    a = p.parse_args()

    layout = Layout(a.out)
    manifests, summary = [], {"platforms": {}}
    for path in a.image:
        desc, config_digest = add_image(layout, path)
        plat = desc["platform"]["os"] + "/" + desc["platform"]["architecture"]
        if plat in summary["platforms"]:
            sys.exit(f"oci-index: two images for {plat}")
        summary["platforms"][plat] = {"manifest": desc["digest"], "config": config_digest}
        manifests.append(desc)
    manifests.sort(key=lambda d: (d["platform"]["os"], d["platform"]["architecture"]))
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
    annotations = dict(kv.split("=", 1) for kv in a.annotation)
    if annotations:
        index["annotations"] = dict(sorted(annotations.items()))
    index_bytes = json.dumps(index, separators=(",", ":")).encode()
    with open(os.path.join(a.out, "index.json"), "wb") as f:
        f.write(index_bytes)
    summary["index"] = sha256(index_bytes)
    print(json.dumps(summary, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
