#!/usr/bin/env python3
"""Every C++ block of the guide compiles against the installed package.

Extracts each ```cpp block of docs/guide/*.md and of the README's
"A minimal program" section, and compiles it (to an object, not linked)
in a CMake project of its own whose CMakeLists has only find_package(kstrand)
and target_link_libraries(... kstrand::kstrand), against a scratch install
of the build tree. A `#line` directive points each compiler error at the
Markdown file and line.

Conventions for writers of the guide:
  - A block is a whole translation unit: it includes what it uses.
  - A block whose first line is `// fragment` is statements: it is put inside
    a function body, after `#include`s of every public kstrand header and the
    usual standard ones (<cstdlib>, <cstdio>, <string>, <vector>, <thread>,
    <condition_variable>, <stop_token>, ...).
    In scope: `using namespace std::chrono_literals;` and a default
    `kstrand::RuntimeConfig config;` (the fragment's code sits in a nested
    block, so it may declare its own `config`). Anything else it uses, it
    declares; or write a whole-translation-unit block.
  - A block in another language (```sh, ```cmake, ```json, ...) is not compiled.
  - ```cpp blocks are compiled; to show C++ that must not be compiled (an
    error on purpose), use ```c++ instead.

Usage: guide_code_blocks.py BUILD_DIR SOURCE_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

FRAGMENT_PRELUDE = """\
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>
{kstrand_includes}
using namespace std::chrono_literals;
"""


def blocks(path, text, only_section=None):
    """Yields (line number of the block's first code line, code) for each ```cpp block."""
    lines = text.split("\n")
    in_section = only_section is None
    i = 0
    while i < len(lines):
        line = lines[i]
        if only_section is not None and line.startswith("## "):
            in_section = line.strip() == only_section
        if in_section and re.fullmatch(r"\s*```cpp\s*", line):
            start = i + 1
            j = start
            while j < len(lines) and not re.fullmatch(r"\s*```\s*", lines[j]):
                j += 1
            if j == len(lines):
                sys.exit(f"{path}:{i + 1}: unterminated ```cpp block")
            yield start + 1, "\n".join(lines[start:j])
            i = j
        i += 1


def main():
    build, src = (os.path.abspath(a) for a in sys.argv[1:3])
    work = tempfile.mkdtemp(prefix="kstrand-guide.")
    try:
        prefix = os.path.join(work, "prefix")
        subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True, stdout=subprocess.DEVNULL)
        headers = sorted(os.path.basename(h) for h in glob.glob(os.path.join(prefix, "include/kstrand/*.h")))
        prelude = FRAGMENT_PRELUDE.format(
            kstrand_includes="\n".join(f"#include <kstrand/{h}>" for h in headers))

        sources = []
        docs = sorted(glob.glob(os.path.join(src, "docs/guide/*.md")))
        inputs = [(p, None) for p in docs] + [(os.path.join(src, "README.md"), "## A minimal program")]
        project = os.path.join(work, "blocks")
        os.makedirs(project)
        for path, section in inputs:
            rel = os.path.relpath(path, src)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for line, code in blocks(rel, text, section):
                name = re.sub(r"[^A-Za-z0-9]+", "_", rel) + f"_L{line}.cc"
                directive = f'#line {line} "{path}"\n'
                if code.lstrip().startswith("// fragment"):
                    body = (prelude + f"void guide_fragment_{len(sources)}() {{\n  kstrand::RuntimeConfig config;\n  {{\n"
                            + directive + code + "\n  }\n}\n")
                else:
                    body = directive + code + "\n"
                with open(os.path.join(project, name), "w", encoding="utf-8") as f:
                    f.write(body)
                sources.append((name, f"{rel}:{line}"))
        if not sources:
            sys.exit("no ```cpp blocks found in docs/guide/*.md or the README's minimal program")
        with open(os.path.join(project, "CMakeLists.txt"), "w", encoding="utf-8") as f:
            f.write("cmake_minimum_required(VERSION 3.25)\nproject(guide_blocks CXX)\nfind_package(kstrand REQUIRED)\n"
                    f"add_library(guide_blocks OBJECT {' '.join(n for n, _ in sources)})\n"
                    "target_link_libraries(guide_blocks PRIVATE kstrand::kstrand)\n"
                    "target_compile_options(guide_blocks PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-unused-variable)\n")
        configure = ["cmake", "-S", project, "-B", os.path.join(work, "build"), "-G", "Ninja",
                     "-DCMAKE_PREFIX_PATH=" + prefix]
        if shutil.which("ccache"):
            configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        subprocess.run(configure, check=True, stdout=subprocess.DEVNULL)
        result = subprocess.run(["ninja", "-k", "0", "-C", os.path.join(work, "build")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            print(result.stdout)
            failed = [where for name, where in sources if f"/{name}.o" in result.stdout and "FAILED" in result.stdout
                      and re.search(rf"FAILED: .*{re.escape(name)}\.o", result.stdout)]
            print("blocks that do not compile:", ", ".join(failed) or "(see above)")
            return 1
        for _, where in sources:
            print("compiles:", where)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
