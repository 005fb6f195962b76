"""The README's Python blocks run as written (the GAN block with a few steps instead of 2,000)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 4  # VAE, Bayesian network, GAN, comparison
    code = "\n".join(blocks)
    assert "steps=2000" in code
    code = code.replace("steps=2000", "steps=2, batch_size=8, device='cpu'")
    code = code.replace("num_samples=1000)))", "num_samples=50)))")
    code = code.replace("num_samples=1000)", "num_samples=5)")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {"__name__": "readme"})
