"""Every public name has a docstring, and docs/python_api.md is what scripts/gen_python_api.py generates now."""
import subprocess
import sys

from conftest import SOURCE_DIR


def test_api_page_is_current_and_complete():
    p = subprocess.run([sys.executable, str(SOURCE_DIR / "scripts" / "gen_python_api.py"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
