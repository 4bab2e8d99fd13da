"""pip install . for the qlite Python package (README, "Python").

The package is what the CMake build lays out in <build>/python/qlite (the
pure-Python modules and the _qlite extension). This script either runs CMake
into its own build directory (build-pip/, Release, tests and benchmarks off:
minutes on two cores) or, when QLITE_CMAKE_BUILD_DIR names an already-built
tree (e.g. QLITE_CMAKE_BUILD_DIR=build after the normal build), takes that
tree's package as it is. Offline; run pip with --no-build-isolation so that
it uses Debian's setuptools and wheel instead of downloading them.
"""
import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = pathlib.Path(__file__).resolve().parent
PREBUILT = os.environ.get("QLITE_CMAKE_BUILD_DIR")
# setuptools' own scratch space: inside the tree we take the package from, never the checkout's build/.
SCRATCH = (pathlib.Path(PREBUILT).resolve() / "pip-build") if PREBUILT else ROOT / "build-pip" / "setuptools"


def fail(message):
    sys.exit("qlite setup.py: " + message)


def built_package():
    """The directory holding qlite/__init__.py and the _qlite extension."""
    if PREBUILT:
        build = pathlib.Path(PREBUILT).resolve()
    else:
        build = ROOT / "build-pip"
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        cmake = ["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", "-DQLITE_BUILD_TESTS=OFF",
                 "-DQLITE_BUILD_BENCH=OFF", "-DQLITE_BUILD_PYTHON=ON", "-DPython3_EXECUTABLE=" + sys.executable]
        if shutil.which("ninja"):
            cmake += ["-G", "Ninja"]
        try:
            subprocess.check_call(cmake)
            subprocess.check_call(["cmake", "--build", str(build), "--target", "qlite_python", "-j", jobs])
        except (OSError, subprocess.CalledProcessError) as e:
            fail("building the extension with CMake failed (%s); scripts/setup.sh installs what it needs" % e)
    pkg = build / "python" / "qlite"
    if not (pkg / "__init__.py").is_file() or not list(pkg.glob("_qlite*.so")):
        fail("no built package at %s (build the qlite_python target there first)" % pkg)
    return pkg


class BuildPy(build_py):
    """Copies the CMake-built package (modules and extension) into the wheel's tree."""

    def run(self):
        src = built_package()
        dst = pathlib.Path(self.build_lib) / "qlite"
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


class BinaryDistribution(Distribution):
    """The wheel holds a compiled extension: tag it for this platform and Python."""

    def has_ext_modules(self):
        return True

    def has_pure_modules(self):  # so that `build` runs BuildPy
        return True


SCRATCH.mkdir(parents=True, exist_ok=True)
setup(
    name="qlite",
    version="0.1.0",
    description="Keras, tfmot and tf.lite names over qlite's C++ QAT, converter and int8 runtime",
    python_requires=">=3.9",
    install_requires=["numpy"],
    packages=[],
    cmdclass={"build_py": BuildPy},
    distclass=BinaryDistribution,
    options={"build": {"build_base": str(SCRATCH)}, "egg_info": {"egg_base": str(SCRATCH)},
             "bdist_wheel": {"bdist_dir": str(SCRATCH / "bdist")}},
)
