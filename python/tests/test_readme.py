# SPDX-License-Identifier: Apache-2.0
"""The README's Python example runs as written."""
import os
import re
import subprocess
import sys

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def test_readme_example(tmp_path):
    with open(README) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert blocks, "README.md has no python example"
    code = blocks[0]
    assert len(code.strip().splitlines()) == 5
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "predicted_label" in r.stdout
    assert (tmp_path / "train.pbr").stat().st_size > 0
    assert (tmp_path / "model.tar.gz").stat().st_size > 0
