"""The README's Python example runs as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python example"
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    history = namespace["history"].history
    assert 0.0 <= history["sparsity"][-1] <= 1.0
    assert history["accuracy"][-1] > 0.5
    assert "sparsity" in capsys.readouterr().out
