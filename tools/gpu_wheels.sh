#!/usr/bin/env bash
# Fill a folder with what tools/gpu_check.sh installs on a GPU machine that has no network.
#
#   tools/gpu_wheels.sh [FOLDER]        (default: .gpu_wheels at the top of the repository)
#
# Run it on a machine with network access to the package index and the CUDA toolkit (nvcc and
# its headers; no GPU or driver needed). The folder gets:
#
#   - pycuda's source distribution, and a pycuda wheel built from it for the GPU machine's
#     Python (GPU_PYTHON_VERSION, default 3.12) when such a Python is found here
#     (GPU_BUILD_PYTHON, python3.12 on PATH, or pyenv's): building there takes minutes of GPU
#     time, here it is done once. It is built against this CUDA toolkit's headers and linked
#     to a stand-in libcuda.so (empty functions under the name libcuda.so.1), so it loads the
#     GPU machine's driver library; cuRAND (unused by exprc) is left out, so nothing else is
#     linked. gpu_check.sh builds pycuda from the source distribution when the wheel is
#     missing or does not import there.
#   - the wheels pycuda needs at run time (pytools, platformdirs, mako, siphash24) and exprc's
#     own dependencies missing from the GPU image (cffi, pycparser, scipy-openblas32). NumPy,
#     networkx, filelock, markupsafe, typing-extensions, pytest and the CUDA 13 cuBLAS wheel
#     (nvidia-cublas, found under nvidia/cu13/lib by exprc) are in the image already; the cuBLAS
#     wheel (over 400 MiB) is far over the 64 MiB a call may carry, so it is only fetched with
#     WITH_CUBLAS=1, for machines that lack it and take files some other way.
#   - mnist.npz for the example, when $EXPRC_MNIST or ../shared/data/mnist.npz has it.
#
# The folder holds a .gitignore of '*', so git ignores it and it must be named in the device
# call's carry list: run(command="bash tools/gpu_check.sh .gpu_wheels", carry=[".gpu_wheels"]).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
folder=${1:-$repo/.gpu_wheels}
mkdir -p "$folder"
folder=$(cd "$folder" && pwd)
printf '*\n' >"$folder/.gitignore"

pip_cmd=${PIP:-python3 -m pip}
gpu_python=${GPU_PYTHON_VERSION:-3.12}
tag=cp${gpu_python/./}
cuda_root=${CUDA_HOME:-/usr/local/cuda}
pycuda_spec=${PYCUDA_SPEC:-pycuda>=2024.1}
quiet() { grep -v -e '^WARNING: Location' -e '^Looking in' || true; }

echo "== pycuda source distribution ($pycuda_spec)"
# --no-binary for pycuda alone: its build requirements (setuptools, wheel, numpy) may come
# as wheels, which pip needs to read the source distribution's metadata.
rm -f "$folder"/pycuda-*.tar.gz
$pip_cmd download -q --no-deps --no-binary pycuda -d "$folder" "$pycuda_spec" 2>&1 | quiet
sdist=$(ls "$folder"/pycuda-*.tar.gz | head -n 1)
echo "   $sdist"

echo "== run-time wheels for Python $gpu_python, manylinux x86_64"
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
    manylinux_2_5_x86_64 manylinux1_x86_64; do
    platforms+=(--platform "$p")
done
wheels=(pytools platformdirs mako siphash24 cffi pycparser scipy-openblas32)
if [[ ${WITH_CUBLAS:-0} == 1 ]]; then
    wheels+=(nvidia-cublas)
fi
$pip_cmd download -q --no-deps --only-binary=:all: --python-version "$gpu_python" \
    --implementation cp --abi "$tag" "${platforms[@]}" -d "$folder" "${wheels[@]}" 2>&1 | quiet

find_python() {
    local candidate check="import sys; assert '%d.%d' % sys.version_info[:2] == '$gpu_python'"
    for candidate in "${GPU_BUILD_PYTHON:-}" "python$gpu_python" \
        "$(pyenv root 2>/dev/null)"/versions/"$gpu_python"*/bin/python"$gpu_python"; do
        [[ -n $candidate ]] || continue
        if "$candidate" -c "$check" >/dev/null 2>&1; then
            command -v "$candidate" || echo "$candidate"
            return 0
        fi
    done
    return 1
}

echo "== pycuda wheel for Python $gpu_python"
if [[ ! -f $cuda_root/include/cuda.h ]]; then
    echo "   no $cuda_root/include/cuda.h: not built (gpu_check.sh builds it from the sdist)"
elif ! python=$(find_python); then
    echo "   no Python $gpu_python here: not built (gpu_check.sh builds it from the sdist)"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$python" -m venv "$work/venv"
    "$work/venv/bin/python" -m pip install -q "numpy>=2" setuptools wheel 2>&1 | quiet
    # The stand-in defines every function of cuda.h and cudaProfiler.h (after their macros:
    # the _v2 names), since the linker records a library only when it provides a symbol the
    # extension uses.
    mkdir "$work/stub"
    printf '#include <cuda.h>\n#include <cudaProfiler.h>\n' |
        gcc -E -P -x c -I"$cuda_root/include" - |
        grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( \t' | sort -u |
        sed 's/.*/void &(void) {}/' >"$work/stub/stand_in.c"
    gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$work/stub/libcuda.so" "$work/stub/stand_in.c"
    tar -xzf "$sdist" -C "$work"
    source_dir=$(ls -d "$work"/pycuda-*/ | head -n 1)
    (cd "$source_dir" && "$work/venv/bin/python" configure.py --cuda-root="$cuda_root" \
        --no-cuda-enable-curand --cudadrv-lib-dir="$work/stub" >/dev/null)
    rm -f "$folder"/pycuda-*.whl
    started=$SECONDS
    (cd "$source_dir" && "$work/venv/bin/python" -m pip wheel -q --no-build-isolation \
        --no-deps -w "$folder" .) 2>&1 | quiet
    built=$(ls "$folder"/pycuda-*-"$tag"-*.whl | head -n 1)
    echo "   $built ($((SECONDS - started)) s)"
    needed=$(unzip -p "$built" 'pycuda/_driver*.so' >"$work/driver.so" &&
        readelf -d "$work/driver.so" | grep -o 'NEEDED.*libcuda[^]]*' || true)
    if [[ $needed != *libcuda.so.1* ]]; then
        echo "   error: the built pycuda does not name libcuda.so.1 ($needed)" >&2
        exit 1
    fi
fi

data=${EXPRC_MNIST:-$repo/../shared/data/mnist.npz}
if [[ -f $data ]]; then
    install -m 644 "$data" "$folder/mnist.npz"
fi

echo "== $folder"
ls -l "$folder"
du -sh "$folder"
echo "carry it with the device call: carry=[\"${folder#"$repo"/}\"]," \
    "command \"bash tools/gpu_check.sh ${folder#"$repo"/}\""
