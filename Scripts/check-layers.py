#!/usr/bin/env python3
"""The library's layering, checked: a file in one folder of Sources/Lockstep may name only the
types and functions declared in its own folder and the folders it may use (ARCHITECTURE.md).

It reads declarations (types, typealiases, top-level functions) per folder and reports every
file that names one from a folder it may not use. Names are matched as whole words outside
comments and string literals. It cannot see a method that a higher folder adds to a lower
folder's type in an extension and the lower folder then calls: keep such extensions in the
type's own folder. Exit status 1 on any violation, with file:line and the rule it breaks.
"""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "Lockstep")

# Each folder and the folders it may use (transitively closed below). Lower layers never name upper ones.
MAY_USE = {
    "Support": [],
    "Tensor": ["Support"],
    "Parallel": ["Tensor"],                 # moves Float buffers; knows no model
    "Autograd": ["Tensor"],
    "Data": ["Tensor"],
    "Model": ["Autograd", "Data"],          # Data for the input standardization a model file carries
    "Objective": ["Model"],
    "Evaluation": ["Objective"],            # metrics, inference, early stopping
    "Persistence": ["Evaluation"],          # formats only: safetensors, the model file (its summary holds test metrics)
    "Training": ["Persistence", "Parallel"],
}

def closure(folder, seen=None):
    seen = set() if seen is None else seen
    for lower in MAY_USE[folder]:
        if lower not in seen:
            seen.add(lower)
            closure(lower, seen)
    return seen

DECL = re.compile(r"^(?:@[\w()]+\s+)*(?:(?:public|private|fileprivate|internal|package|final|open|indirect|nonisolated)\s+)*"
                  r"(?:class|struct|enum|protocol|actor|typealias|func)\s+([A-Za-z_][A-Za-z0-9_]*)")

def strip(line):
    """The line without its comment and string literals (good enough for this code base)."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    return line.split("//", 1)[0]

def main():
    folders = sorted(d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)))
    unknown = [f for f in folders if f not in MAY_USE]
    if unknown:
        print(f"check-layers: folder(s) {unknown} have no rule in Scripts/check-layers.py"); return 1
    files = {f: [] for f in folders}
    owner = {}
    for folder in folders:
        for dirpath, _, names in os.walk(os.path.join(ROOT, folder)):
            for name in sorted(names):
                if not name.endswith(".swift"): continue
                path = os.path.join(dirpath, name)
                files[folder].append(path)
                for line in open(path, encoding="utf-8"):
                    m = DECL.match(line)   # top level only: declarations at column 0
                    if m and not line.startswith("private") and not line.startswith("fileprivate"):
                        name_ = m.group(1)
                        if name_ in owner and owner[name_] != folder:
                            print(f"check-layers: {name_} is declared in both {owner[name_]} and {folder}"); return 1
                        owner[name_] = folder
    pattern = re.compile(r"\b(" + "|".join(sorted(owner, key=len, reverse=True)) + r")\b")
    violations = 0
    for folder in folders:
        allowed = closure(folder) | {folder}
        for path in files[folder]:
            in_block_comment = False
            for number, raw in enumerate(open(path, encoding="utf-8"), 1):
                line = raw
                if in_block_comment:
                    if "*/" not in line: continue
                    line, in_block_comment = line.split("*/", 1)[1], False
                if "/*" in line and "*/" not in line:
                    line, in_block_comment = line.split("/*", 1)[0], True
                for used in set(pattern.findall(strip(line))):
                    if owner[used] not in allowed:
                        rel = os.path.relpath(path, os.path.join(ROOT, "..", ".."))
                        print(f"{rel}:{number}: {folder} uses {used} from {owner[used]} "
                              f"({folder} may use: {', '.join(sorted(allowed - {folder})) or 'nothing'})")
                        violations += 1
    if violations:
        print(f"check-layers: {violations} use(s) across the layering"); return 1
    print(f"check-layers: {len(folders)} folders, {sum(map(len, files.values()))} files, {len(owner)} names: no layering violations")
    return 0

sys.exit(main())
