# SPDX-License-Identifier: Apache-2.0
# setup.py - builds linlearn._linlearn against the static library of the checkout one level up
# (run `make` there first). LL_ROOT names the checkout when this folder was copied elsewhere;
# LL_BUILD names another build folder (default $LL_ROOT/build).
import os
import sys

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.environ.get("LL_ROOT") or os.path.dirname(here))
if not os.path.isfile(os.path.join(root, "include", "linlearn.h")):
    sys.exit(f"linlearn: {root}/include/linlearn.h not found; set LL_ROOT to the checkout")
build = os.environ.get("LL_BUILD", os.path.join(root, "build"))
if not os.path.isabs(build):
    build = os.path.join(root, build)
static = os.path.join(build, "liblinlearn.a")
if "egg_info" not in sys.argv and "sdist" not in sys.argv and not os.path.exists(static):
    sys.exit(f"linlearn: {static} not found; run `make` in {root} first")

# a library built with MPI (make MPI=1, src/dist.c) needs Open MPI's link flags too
mpi_link = []
if os.path.exists(static):
    import shlex
    import subprocess

    try:
        syms = subprocess.run(["nm", "-u", static], capture_output=True, text=True).stdout
        if "MPI_Init_thread" in syms:
            mpi_link = shlex.split(
                subprocess.run(["mpicc", "--showme:link"], capture_output=True, text=True).stdout
            )
    except OSError:
        mpi_link = ["-lmpi"]

ext = Extension(
    "linlearn._linlearn",
    sources=["linlearn/_linlearn.c"],
    include_dirs=[os.path.join(root, "include")],
    extra_objects=[static],
    # rebuilt when the library or its headers change, not only the module's source
    depends=[static, os.path.join(root, "include", "linlearn.h")],
    libraries=["openblas", "curl", "jansson", "microhttpd", "archive", "expat", "z", "m"],
    extra_compile_args=["-std=c11", "-Wall", "-Wno-missing-field-initializers"],
    extra_link_args=["-pthread"] + mpi_link,
)

setup(
    name="linlearn",
    version="0.1.0",
    description="SageMaker Linear Learner and RecordIO-protobuf, in C, for Python",
    packages=["linlearn"],
    ext_modules=[ext],
    python_requires=">=3.9",
    install_requires=["numpy"],
)
