#!/usr/bin/env python3
"""mkdata.py - the benchmark's input folders, identical on every run.

    python3 bench/mkdata.py OUTDIR NAME...      (NAME: small, large, many, bins)

makes OUTDIR/NAME for each NAME, unless OUTDIR/NAME.stamp says it was already
made by this very version of this file (the stamp holds the SHA-256 of the
source), so an edited generator regenerates its data.  Every byte of small,
large and many comes from a keyed SHAKE-256 stream (seed + dataset + file), so
that output depends on nothing but this file: not on Python's `random`, the
machine, or the order of work.  bins is real binaries of this machine: its
stamp also holds a digest of the chosen files' paths, sizes and mtimes, so it
is made again when they change.

  small  a package repository as a bundle: packages/pkg<N>/{metadata.yml,
         1.<v>.0.yml} (80 packages x 5 = 400 YAML files, ~6 MB) and
         .imgpkg/images.yml (an ImagesLock of 40 digest-pinned images)
  large  ~512 MiB: 2,000 YAML-like text files under config/<N>/ (500..4000
         lines each, ~128 MiB, compressible) + bin/blob<K>.bin, 8 x 48 MiB of
         incompressible bytes, and .imgpkg/images.yml (8 images)
  many   20,000 tiny text files (1..8 lines) at a<i%20>/b<i%200>/f<i>.txt
  bins   up to 560 MB of the machine's own binaries, taken from BINS_SOURCES
         (glob by glob, each glob's matches in sorted order; regular readable
         files only, each inode once; a file that would pass the cap is skipped
         and the next one tried) and copied to usr/<path under /usr>, plus
         .imgpkg/images.yml (8 images)
"""
import glob
import hashlib
import os
import shutil
import stat
import struct
import sys

SEED = b"imgpkg-c bench data, seed 1"
BLOCK_WORDS = 8192  # 32-bit words drawn per SHAKE call


class Rng:
    """Deterministic PRNG: SHAKE-256(seed | label | block counter), read as
    little-endian 32-bit words."""

    def __init__(self, *label):
        self.key = SEED + b"|" + "|".join(str(x) for x in label).encode()
        self.block = 0
        self.words = ()
        self.pos = 0

    def _refill(self):
        # blocks grow 64, 128, ... BLOCK_WORDS words: tiny files stay cheap
        n = min(BLOCK_WORDS, 64 << self.block)
        h = hashlib.shake_256(self.key + b"|" + str(self.block).encode())
        self.words = struct.unpack("<%dI" % n, h.digest(4 * n))
        self.block += 1
        self.pos = 0

    def u32(self):
        if self.pos == len(self.words):
            self._refill()
        w = self.words[self.pos]
        self.pos += 1
        return w

    def below(self, n):
        return self.u32() % n

    def between(self, lo, hi):  # inclusive
        return lo + self.u32() % (hi - lo + 1)

    def pick(self, seq):
        return seq[self.u32() % len(seq)]

    def hex(self, nbytes):
        return b"".join(struct.pack("<I", self.u32()) for _ in range((nbytes + 3) // 4))[:nbytes].hex()


def random_bytes(n, *label):
    """n incompressible bytes."""
    return hashlib.shake_256(SEED + b"|" + "|".join(str(x) for x in label).encode()).digest(n)


KEYS = ("name namespace image replicas port targetPort containerPort protocol labels "
        "annotations app version env value valueFrom resources limits requests cpu memory "
        "volumeMounts mountPath readOnly selector matchLabels containers args command path "
        "kind apiVersion metadata spec template strategy type enabled timeout interval url "
        "host key secretName configMap data rules paths backend service tls hosts issuer "
        "schedule retries level format endpoint region bucket size storageClass").split()
WORDS = ("alpha beta gamma delta api web worker cache queue proxy ingress gateway frontend "
         "backend metrics logging tracing auth billing search report batch stream store "
         "primary replica canary stable default system monitoring platform edge core").split()
KINDS = ("Deployment Service ConfigMap Secret Ingress StatefulSet DaemonSet Job CronJob "
         "ServiceAccount Role RoleBinding NetworkPolicy PersistentVolumeClaim").split()
UNITS = ("Mi", "Gi", "m", "s", "ms", "")


def scalar(rng):
    k = rng.below(10)
    if k < 4:
        return "-".join(rng.pick(WORDS) for _ in range(rng.between(2, 4)))
    if k < 6:
        return str(rng.below(10000)) + rng.pick(UNITS)
    if k == 6:
        return rng.pick(("true", "false"))
    if k == 7:
        return '"%s.%s.svc:%d"' % (rng.pick(WORDS), rng.pick(WORDS), rng.between(1000, 9999))
    if k == 8:
        return "%d.%d.%d" % (rng.below(4), rng.below(30), rng.below(100))
    return "sha256:" + rng.hex(8)


def yaml_lines(rng, nlines):
    """YAML-like text: documents of nested maps and lists, ~30 bytes a line."""
    out = []
    depth = 0
    while len(out) < nlines:
        k = rng.below(16)
        ind = "  " * depth
        if depth == 0 or (k == 0 and rng.below(4) == 0):
            out.append("---")
            out.append("apiVersion: %s/v%d" % (rng.pick(("apps", "batch", "core", "networking.k8s.io")), rng.between(1, 2)))
            out.append("kind: " + rng.pick(KINDS))
            out.append("metadata:")
            out.append("  name: %s-%s-%d" % (rng.pick(WORDS), rng.pick(WORDS), rng.below(100)))
            out.append("spec:")
            depth = 1
        elif k < 4 and depth < 6:
            out.append(ind + rng.pick(KEYS) + ":")
            depth += 1
        elif k < 6:
            out.append(ind + "- " + rng.pick(KEYS) + ": " + scalar(rng))
        elif k < 8 and depth > 1:
            depth -= 1
            out.append("  " * depth + rng.pick(KEYS) + ": " + scalar(rng))
        else:
            out.append(ind + rng.pick(KEYS) + ": " + scalar(rng))
    return out[:nlines]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def images_lock(rng, n, prefix):
    lines = ["---", "apiVersion: imgpkg.carvel.dev/v1alpha1", "kind: ImagesLock", "images:"]
    for i in range(n):
        lines.append("- image: registry.example.com/%s/img%d@sha256:%s" % (prefix, i, rng.hex(32)))
        lines.append("  annotations:")
        lines.append("    kbld.carvel.dev/id: %s/img%d:latest" % (prefix, i))
    return "\n".join(lines) + "\n"


def make_small(root):
    for n in range(80):
        base = os.path.join(root, "packages", "pkg%d" % n)
        files = ["metadata.yml"] + ["1.%d.0.yml" % v for v in range(4)]
        for name in files:
            rng = Rng("small", n, name)
            write(os.path.join(base, name), "\n".join(yaml_lines(rng, rng.between(300, 700))) + "\n")
    write(os.path.join(root, ".imgpkg", "images.yml"), images_lock(Rng("small", "lock"), 40, "pkgs"))


def make_large(root):
    for n in range(2000):
        rng = Rng("large", n)
        path = os.path.join(root, "config", str(n // 20), "part%d.yml" % n)
        write(path, "\n".join(yaml_lines(rng, rng.between(500, 4000))) + "\n")
    for k in range(8):
        write(os.path.join(root, "bin", "blob%d.bin" % k), random_bytes(48 << 20, "large", "blob", k))
    write(os.path.join(root, ".imgpkg", "images.yml"), images_lock(Rng("large", "lock"), 8, "large"))


def make_many(root):
    for i in range(20000):
        rng = Rng("many", i)
        lines = ["%s %s %d" % (rng.pick(WORDS), rng.pick(KEYS), rng.below(1000)) for _ in range(rng.between(1, 8))]
        write(os.path.join(root, "a%d" % (i % 20), "b%d" % (i % 200), "f%d.txt" % i), "\n".join(lines) + "\n")


BINS_SOURCES = (
    "/usr/lib/x86_64-linux-gnu/*.so*",
    "/usr/lib/x86_64-linux-gnu/*/*.so*",
    "/usr/lib/*.so*",
    "/usr/bin/*",
    "/usr/sbin/*",
)
BINS_CAP = 560 * 1000 * 1000


def bins_files():
    """The (source path, size, mtime_ns, executable) of the files bins copies,
    in order."""
    picked, seen, total = [], set(), 0
    for pattern in BINS_SOURCES:
        for path in sorted(glob.glob(pattern)):
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in seen or not os.access(path, os.R_OK):
                continue
            if total + st.st_size > BINS_CAP:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
            picked.append((path, st.st_size, st.st_mtime_ns, bool(st.st_mode & stat.S_IXUSR)))
    return picked


def bins_version():
    h = hashlib.sha256()
    for path, size, mtime, exe in bins_files():
        h.update(("%s %d %d %d\n" % (path, size, mtime, exe)).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def make_bins(root):
    files = bins_files()
    if not files:
        raise SystemExit("mkdata: bins: none of %s matches a readable file" % " ".join(BINS_SOURCES))
    for path, _, _, exe in files:
        dest = os.path.join(root, os.path.relpath(path, "/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(path, dest)
        os.chmod(dest, 0o755 if exe else 0o644)
    write(os.path.join(root, ".imgpkg", "images.yml"), images_lock(Rng("bins", "lock"), 8, "bins"))


MAKERS = {"small": make_small, "large": make_large, "many": make_many, "bins": make_bins}
VERSIONS = {"bins": bins_version}


def main(argv):
    if len(argv) < 3 or any(n not in MAKERS for n in argv[2:]):
        sys.stderr.write("usage: mkdata.py OUTDIR {small|large|many|bins}...\n")
        return 2
    out = argv[1]
    with open(os.path.abspath(__file__), "rb") as f:
        version = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(out, exist_ok=True)
    for name in argv[2:]:
        want = version + (" " + VERSIONS[name]() if name in VERSIONS else "")
        dest, stamp = os.path.join(out, name), os.path.join(out, name + ".stamp")
        try:
            with open(stamp) as f:
                if f.read().strip() == want and os.path.isdir(dest):
                    continue
        except OSError:
            pass
        sys.stderr.write("mkdata: generating %s in %s\n" % (name, dest))
        tmp = dest + ".tmp"
        for p in (stamp, dest, tmp):
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)
        MAKERS[name](tmp)
        os.rename(tmp, dest)
        with open(stamp, "w") as f:
            f.write(want + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
