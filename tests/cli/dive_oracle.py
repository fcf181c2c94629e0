#!/usr/bin/env python3
"""An independent model of dive's analysis, to check `bale inspect --format dive` against.

dive is not packaged for Debian, so the CLI tests cannot run it. This script restates, in a
few lines of Python over the image's tar listings, what dive's Go code does
(dive/filetree: AddPath, Stack, StackTreeRange, Efficiency; dive/image: Analyze;
cmd/dive/cli/internal/command/export: the JSON), and prints dive's export for an image:

    dive_oracle.py IMAGE            IMAGE: an OCI layout directory, an oci-archive or a
                                    docker-archive tar (single-image ones)

The output is laid out as Go's json.MarshalIndent lays it out, so it can be compared byte for
byte with bale's. Where dive's order is not defined (paths with equal cumulative sizes, which
dive sorts with an unstable sort), this script and bale both sort by path.
"""
import gzip
import io
import json
import posixpath
import subprocess
import sys
import tarfile

WH = ".wh."
WH_META = ".wh..wh."


class Node:
    __slots__ = ("name", "parent", "children", "info")

    def __init__(self, name, parent):
        self.name = name
        self.parent = parent
        self.children = {}
        self.info = None  # None is Go's empty FileInfo{}

    def path(self):
        names = []
        node = self
        while node.parent is not None:
            name = node.name
            if node is self and name.startswith(WH):
                name = name[len(WH):]
            names.append(name)
            node = node.parent
        return "/" + "/".join(reversed(names))

    def visit_child_first(self, fn, only_leaves=False, root=True):
        for key in sorted(self.children, key=lambda s: s.encode()):
            if self.children[key].visit_child_first(fn, only_leaves, False) is False:
                return False
        if root:
            return True
        if only_leaves and self.children:
            return True
        return fn(self)


def go_clean(name):
    cleaned = posixpath.normpath(name) if name else "."
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def add_path(root, path, info):
    path = go_clean(path)
    if path == ".":
        return
    names = path.strip("/").split("/")
    node = root
    for idx, name in enumerate(names):
        if name == "":
            continue
        if name in node.children:
            node = node.children[name]
        else:
            if name.startswith(WH_META):
                return
            child = Node(name, node)
            node.children[name] = child
            node = child
        if idx == len(names) - 1:
            node.info = info


def get_node(root, path):
    node = root
    for name in path.strip("/").split("/"):
        if name == "":
            continue
        if name not in node.children:
            return None
        node = node.children[name]
    return node


def copy_tree(node, parent=None):
    new = Node(node.name, parent)
    new.info = node.info
    for k, c in node.children.items():
        new.children[k] = copy_tree(c, new)
    return new


def stack(lower, upper):
    def graft(node):
        if node.name.startswith(WH):
            target = get_node(lower, node.path())
            if target is not None and target.parent is not None:
                del target.parent.children[target.name]
        else:
            add_path(lower, node.path(), node.info)
        return True

    upper.visit_child_first(graft)


def stack_range(trees, start, stop):
    tree = copy_tree(trees[0])
    for i in range(start, stop + 1):
        stack(tree, trees[i])
    return tree


S_IFMT = 0o170000
GO_MODE = {
    tarfile.DIRTYPE: 1 << 31,
    tarfile.SYMTYPE: 1 << 27,
    tarfile.CHRTYPE: (1 << 26) | (1 << 21),
    tarfile.BLKTYPE: 1 << 26,
    tarfile.FIFOTYPE: 1 << 25,
}


def file_info(ti, path):
    mode = ti.mode & 0o777
    if ti.mode & 0o4000:
        mode |= 1 << 23
    if ti.mode & 0o2000:
        mode |= 1 << 22
    if ti.mode & 0o1000:
        mode |= 1 << 20
    t = ti.type
    if t in (tarfile.AREGTYPE, tarfile.CONTTYPE):
        t = tarfile.REGTYPE
    mode |= GO_MODE.get(t, 0)
    return {
        "path": path,
        "typeFlag": t[0],
        "linkName": ti.linkname,
        "size": ti.size,
        "fileMode": mode,
        "uid": ti.uid,
        "gid": ti.gid,
        "isDir": t == tarfile.DIRTYPE,
    }


EMPTY = {"path": "", "typeFlag": 0, "linkName": "", "size": 0, "fileMode": 0, "uid": 0,
         "gid": 0, "isDir": False}


def layer_tree(data):
    root = Node("", None)
    size = 0
    tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    while True:
        try:
            ti = tf.next()
        except tarfile.ReadError:
            break  # umoci's layers end without the end-of-archive blocks
        if ti is None:
            break
        name = go_clean(ti.name)
        if name == ".":
            continue
        size += ti.size
        add_path(root, name, file_info(ti, name))
    return root, size


def efficiency(trees):
    data = {}
    order = []
    for idx, tree in enumerate(trees):
        def visitor(node):
            path = node.path()
            if node.name.startswith(WH):
                stacked = stack_range(trees, 0, idx - 1)
                prev = get_node(stacked, path)
                if prev is None:
                    return False  # dive's visitor fails: the rest of this layer is skipped
                size = 0
                if prev.info is not None and prev.info["isDir"]:
                    sizes = []
                    prev.visit_child_first(
                        lambda n: sizes.append(n.info["size"] if n.info else 0) or True)
                    size = sum(sizes) + (prev.info["size"] if prev.info else 0)
            else:
                size = node.info["size"] if node.info else 0
            if path not in data:
                data[path] = [0, -1, 0]
                order.append(path)
            d = data[path]
            d[0] += size
            if d[1] < 0 or size < d[1]:
                d[1] = size
            d[2] += 1
            return True

        tree.visit_child_first(visitor, only_leaves=True)
    total_min = sum(d[1] for d in data.values())
    total_cum = sum(d[0] for d in data.values())
    score = 1.0 if total_cum == 0 else total_min / total_cum
    inefficient = [(p, d) for p, d in data.items() if d[2] >= 2]
    inefficient.sort(key=lambda x: (-x[1][0], x[0].encode()))
    return score, inefficient


# ---- reading images -----------------------------------------------------------------------

def decompress(blob):
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return subprocess.run(["zstd", "-dcq"], input=blob, stdout=subprocess.PIPE,
                              check=True).stdout
    return blob


class Source:
    def __init__(self, path):
        self.path = path
        self.tar = None
        if not __import__("os").path.isdir(path):
            self.tar = tarfile.open(path, "r:")
            self.members = {go_clean(m.name): m for m in self.tar.getmembers()}

    def read(self, name):
        if self.tar is None:
            with open(posixpath.join(self.path, name), "rb") as f:
                return f.read()
        m = self.members[go_clean(name)]
        while m.issym() or m.islnk():
            target = m.linkname if m.islnk() else posixpath.join(posixpath.dirname(m.name),
                                                                m.linkname)
            m = self.members[go_clean(target)]
        return self.tar.extractfile(m).read()

    def has(self, name):
        if self.tar is None:
            return __import__("os").path.exists(posixpath.join(self.path, name))
        return go_clean(name) in self.members


def blob_name(digest):
    alg, hexd = digest.split(":", 1)
    return "blobs/%s/%s" % (alg, hexd)


def load(path):
    src = Source(path)
    if src.has("manifest.json"):
        manifest = json.loads(src.read("manifest.json"))[0]
        config = json.loads(src.read(manifest["Config"]))
        layers = [(p, src.read(p)) for p in manifest["Layers"]]
        return config, layers
    index = json.loads(src.read("index.json"))
    desc = index["manifests"][0]
    doc = json.loads(src.read(blob_name(desc["digest"])))
    while "manifests" in doc:
        desc = doc["manifests"][0]
        doc = json.loads(src.read(blob_name(desc["digest"])))
    config = json.loads(src.read(blob_name(doc["config"]["digest"])))
    layers = [(blob_name(l["digest"]), src.read(blob_name(l["digest"]))) for l in doc["layers"]]
    return config, layers


def layer_id(path):
    base = posixpath.basename(path)
    if base == "layer.tar":
        return posixpath.basename(posixpath.dirname(path))
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


# ---- Go's JSON -----------------------------------------------------------------------------

def go_float(f):
    if f == 0:
        return "0"
    r = repr(f)
    if "e" in r or "E" in r:
        mant, exp = r.split("e")
        exp = int(exp)
        if abs(f) < 1e-6 or abs(f) >= 1e21:
            return "%se%s%02d" % (mant, "-" if exp < 0 else "+", abs(exp)) if exp < -9 or exp > 0 \
                else "%se-%d" % (mant, -exp)
        digits = mant.replace(".", "").lstrip("-")
        point = exp + 1
        if point <= 0:
            return "0." + "0" * (-point) + digits
        return digits + "0" * (point - len(digits)) if point >= len(digits) else \
            digits[:point] + "." + digits[point:]
    return r[:-2] if r.endswith(".0") else r


def go_json(value, indent=0):
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ["%s%s: %s" % (pad, go_json(k), go_json(v, indent + 1)) for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(pad + go_json(v, indent + 1) for v in value) + "\n" + end + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, int):
        return str(value)
    s = json.dumps(value, ensure_ascii=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def main():
    config, layers = load(sys.argv[1])
    trees, sizes = [], []
    for _, blob in layers:
        tree, size = layer_tree(decompress(blob))
        trees.append(tree)
        sizes.append(size)
    score, inefficient = efficiency(trees)
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    diff_ids = config["rootfs"]["diff_ids"]
    out_layers = []
    for idx, (path, _) in enumerate(layers):
        h = history[idx] if idx < len(history) else None
        command = "(missing)"
        if h is not None:
            command = h.get("created_by", "")
            if command.startswith("/bin/sh -c "):
                command = command[len("/bin/sh -c "):]
        files = []
        trees[idx].visit_child_first(
            lambda n: files.append(n.info if n.info is not None else EMPTY) or True)
        out_layers.append({
            "index": idx,
            "id": layer_id(path),
            "digestId": diff_ids[idx] if h is not None else "",
            "sizeBytes": sizes[idx],
            "command": command,
            "fileList": files,
        })
    export = {
        "layer": out_layers,
        "image": {
            "sizeBytes": sum(sizes),
            "inefficientBytes": sum(d[0] for _, d in inefficient),
            "efficiencyScore": float(score),
            "fileReference": [{"count": d[2], "sizeBytes": d[0], "file": p}
                              for p, d in inefficient],
        },
    }
    sys.stdout.write(go_json(export))


if __name__ == "__main__":
    main()
