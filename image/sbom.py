#!/usr/bin/env python3
"""Writes the CycloneDX SBOM of one operator image (one architecture).

The Java part comes from the CycloneDX Maven plugin's BOM of the operator module (its runtime dependencies, with
licences and hashes); this adds what the image holds besides: the Debian packages of the base layer (from the
/var/lib/dpkg/status.d records that tools/build-base-image.sh writes, as distroless does) and the Java runtime
(from /opt/java/openjdk/release). The image itself is the SBOM's subject (metadata.component).

    sbom.py --maven-bom operator/target/bom.json --image jib-image-arm64.tar \
        --name ghcr.io/tailops/tailscale-operator --version 0.1.0 --out sbom-arm64.cdx.json
"""
import argparse
import json
import re
import tarfile
import uuid


def image_files(path, wanted):
    """{path inside the image: bytes} for the files whose path matches `wanted` (a regex), upper layers winning."""
    found = {}
    with tarfile.open(path) as t:
        entry = json.load(t.extractfile("manifest.json"))[0]
        config = json.load(t.extractfile(entry["Config"]))
        for name in entry["Layers"]:
            with tarfile.open(fileobj=t.extractfile(name), mode="r:*") as layer:
                for m in layer:
                    p = m.name.lstrip("./")
                    if m.isfile() and re.fullmatch(wanted, p):
                        found[p] = layer.extractfile(m).read()
    return config, found


def deb_components(files, arch):
    out = []
    for path, data in sorted(files.items()):
        if not path.startswith("var/lib/dpkg/status.d/"):
            continue
        fields = {}
        for line in data.decode("utf-8", "replace").splitlines():
            if ":" in line and not line.startswith(" "):
                k, _, v = line.partition(":")
                fields[k.strip()] = v.strip()
        name, version = fields.get("Package") or path.rsplit("/", 1)[1], fields.get("Version")
        if not name or not version:
            continue
        out.append({
            "type": "library",
            "bom-ref": f"pkg:deb/debian/{name}@{version}?arch={arch}&distro=debian-12",
            "name": name,
            "version": version,
            "purl": f"pkg:deb/debian/{name}@{version}?arch={arch}&distro=debian-12",
            "supplier": {"name": "Debian"},
            "properties": [{"name": "source", "value": "base image layer (tools/build-base-image.sh)"}],
        })
    return out


def java_component(files, arch):
    data = files.get("opt/java/openjdk/release")
    if data is None:
        return []
    fields = dict(re.findall(r'^([A-Z_]+)="(.*)"$', data.decode(), re.M))
    version = fields.get("JAVA_RUNTIME_VERSION") or fields.get("JAVA_VERSION", "unknown")
    modules = fields.get("MODULES", "")
    return [{
        "type": "framework",
        "bom-ref": f"pkg:generic/openjdk@{version}?arch={arch}",
        "name": "openjdk",
        "version": version,
        "purl": f"pkg:generic/openjdk@{version}?arch={arch}",
        "description": "Java runtime made with jlink from Debian's openjdk jmods (modules: " + modules + ")",
        "licenses": [{"license": {"id": "GPL-2.0-only WITH Classpath-exception-2.0"}}],
    }]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--maven-bom", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    bom = json.load(open(a.maven_bom))
    config, files = image_files(a.image, r"var/lib/dpkg/status\.d/[^/]+|opt/java/openjdk/release")
    arch = config["architecture"]
    extra = deb_components(files, arch) + java_component(files, arch)
    if not any(c["name"] == "libc6" for c in extra):
        raise SystemExit(f"sbom: no Debian package records in {a.image}: is it built on the tailops base?")
    app = bom.get("metadata", {}).get("component")
    components = bom.get("components", [])
    if app:
        components = [app] + components
    bom["components"] = components + extra
    bom["serialNumber"] = "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{a.name}:{a.version}:{arch}"))
    meta = bom.setdefault("metadata", {})
    meta["component"] = {
        "type": "container",
        "bom-ref": f"{a.name}:{a.version}@linux/{arch}",
        "name": a.name,
        "version": a.version,
        "properties": [{"name": "platform", "value": f"linux/{arch}"}],
    }
    deps = bom.setdefault("dependencies", [])
    deps.append({"ref": meta["component"]["bom-ref"],
                 "dependsOn": ([app["bom-ref"]] if app and "bom-ref" in app else []) + [c["bom-ref"] for c in extra]})
    with open(a.out, "w") as f:
        json.dump(bom, f, indent=1)
    print(f"{a.out}: {len(bom['components'])} components ({len(extra)} from the base image, linux/{arch})")


if __name__ == "__main__":
    main()
