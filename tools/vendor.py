#!/usr/bin/env python3
"""The patched upstream crates under vendor/: each is the published crate plus the patches in
vendor/patches/<crate>/, applied in name order.

    python3 tools/vendor.py check          # CI: every vendor/<crate> equals upstream + patches
    python3 tools/vendor.py apply [crate]  # rebuild vendor/<crate> from upstream + patches

The published `.crate` comes from crates.io (static.crates.io) and must match the SHA-256
below. Only the files cargo needs are kept (KEEP). To change a patch: run `apply`, edit the
tree, then write the difference against upstream plus the earlier patches into the patch
file (`diff -ruN`), and run `check`.
"""
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR = os.path.join(ROOT, "vendor")
# name, version, SHA-256 of the published .crate
CRATES = [
    ("sqlx-core", "0.9.1", "c08f9787cc5aff062567dea2205f8ae37a617b04342633ab4f74944858ea6072"),
    ("sqlx-sqlite", "0.9.1", "88b6b78a34ddcb1db4046d462db8f79cee811019d7297b99fca8fac5de26672e"),
    ("async-graphql", "7.2.1", "1057a9f7ccf2404d94571dec3451ade1cb524790df6f1ada0d19c2a49f6b0f40"),
]
KEEP = ("Cargo.toml", "LICENSE-APACHE", "LICENSE-MIT", "src")
CACHE = os.path.join(os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo")), "salve-upstream")


def published(name, version, sha256):
    """The .crate's bytes, from the local cache or crates.io, checked against its hash."""
    path = os.path.join(CACHE, "%s-%s.crate" % (name, version))
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    else:
        url = "https://static.crates.io/crates/%s/%s-%s.crate" % (name, name, version)
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        sys.exit("%s %s: SHA-256 %s, expected %s" % (name, version, digest, sha256))
    os.makedirs(CACHE, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return data


def build(name, version, sha256, into):
    """Writes upstream + patches of one crate into the empty folder `into`."""
    prefix = "%s-%s/" % (name, version)
    with tarfile.open(fileobj=io.BytesIO(published(name, version, sha256))) as archive:
        for member in archive.getmembers():
            if not member.name.startswith(prefix) or not member.isfile():
                continue
            rel = member.name[len(prefix):]
            if rel.split("/")[0] not in KEEP:
                continue
            target = os.path.join(into, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with archive.extractfile(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    folder = os.path.join(VENDOR, "patches", name)
    for patch in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        with open(os.path.join(folder, patch), "rb") as f:
            subprocess.run(["patch", "-s", "-p1", "-d", into, "--no-backup-if-mismatch"],
                           input=f.read(), check=True)


def files(folder):
    out = {}
    for base, _, names in os.walk(folder):
        for n in names:
            path = os.path.join(base, n)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def check():
    failed = False
    for name, version, sha256 in CRATES:
        with tempfile.TemporaryDirectory() as tmp:
            build(name, version, sha256, tmp)
            want, have = files(tmp), files(os.path.join(VENDOR, name))
            differ = sorted(p for p in set(want) | set(have) if want.get(p) != have.get(p))
            if differ:
                failed = True
                print("vendor/%s differs from %s %s + patches:" % (name, name, version))
                for p in differ[:20]:
                    state = "missing" if p not in have else "extra" if p not in want else "changed"
                    print("  %s %s" % (state, p))
            else:
                patches = os.listdir(os.path.join(VENDOR, "patches", name))
                print("vendor/%s = %s %s + %d patch(es)" % (name, name, version, len(patches)))
    return 1 if failed else 0


def apply(only):
    for name, version, sha256 in CRATES:
        if only and name != only:
            continue
        target = os.path.join(VENDOR, name)
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        build(name, version, sha256, target)
        print("rebuilt vendor/%s" % name)
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "check":
        sys.exit(check())
    if command == "apply":
        sys.exit(apply(sys.argv[2] if len(sys.argv) > 2 else None))
    sys.exit(__doc__)
