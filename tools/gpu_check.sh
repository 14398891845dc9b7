#!/usr/bin/env bash
# Check the CUDA backend on a GPU machine without network access.
#
#   bash tools/gpu_check.sh [FOLDER]     (FOLDER: what tools/gpu_wheels.sh filled; .gpu_wheels)
#
# Steps, each under `timeout`, each logged with its command, exit status and wall time to
# $OUT/<step>.log (OUT defaults to /tmp/gpu_check_out); a failing step never stops the next:
#
#   env         nvidia-smi, nvcc, Python, NumPy, the driver and cuBLAS libraries seen
#   install     the carried wheels into a private folder on PYTHONPATH (the machine's Python
#               and its packages stay as they are); pycuda from the wheel built for this
#               Python, else built here from its source distribution
#   cuda_tests  the tests marked `cuda` (the real-GPU tests; the registry's are the next step)
#   registry    tests/test_cuda_registry.py's GPU copy, when the file exists
#   mnist       examples/mnist_mlp.py for one epoch with EXPRC_FLAGS=device=cuda
#   bench       benchmarks/run.py --device cuda, when run.py offers --device (short: eager
#               PyTorch as the peer, few samples; GPU_CHECK_BENCH_ARGS replaces those options)
#
# The whole check stays within GPU_CHECK_SECONDS (default 480): a step gets at most the time
# left, and a step with under 15 s left is skipped. The summary is printed last and written
# to $OUT/summary.txt. Exit status 0 when every step that ran passed.
set -u

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 2
export GPU_CHECK_FOLDER=${GPU_CHECK_FOLDER:-$(cd "${1:-.gpu_wheels}" 2>/dev/null && pwd)}
export GPU_CHECK_OUT=${OUT:-/tmp/gpu_check_out}
export GPU_CHECK_SITE=${GPU_CHECK_SITE:-/tmp/exprc_gpu_site}
export PYTHON=${PYTHON:-python3}
export PYTHONPATH="$GPU_CHECK_SITE:$repo${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export PATH="$CUDA_HOME/bin:$PATH"
export EXPRC_CACHE_DIR=${EXPRC_CACHE_DIR:-/tmp/exprc_gpu_cache}
if [[ -z ${EXPRC_MNIST:-} && -f ${GPU_CHECK_FOLDER:-/nonexistent}/mnist.npz ]]; then
    export EXPRC_MNIST=$GPU_CHECK_FOLDER/mnist.npz
fi

# --------------------------------------------------------------------------- the steps
step_env() {
    nvidia-smi
    echo
    nvcc --version
    "$PYTHON" -c 'import sys, numpy; print(sys.executable, sys.version, "numpy", numpy.__version__)'
    echo "libraries:"
    ldconfig -p | grep -E 'libcuda\.so|libcublas\.so' || true
    "$PYTHON" - <<'EOF'
import importlib.util, pathlib
spec = importlib.util.find_spec("nvidia")
for root in (spec.submodule_search_locations if spec else []):
    for lib in sorted(pathlib.Path(root).glob("*/lib/libcublas.so*")):
        print("wheel:", lib)
EOF
}

step_install() {
    local folder=$GPU_CHECK_FOLDER site=$GPU_CHECK_SITE
    if [[ -z $folder || ! -d $folder ]]; then
        echo "no wheel folder: run tools/gpu_wheels.sh where there is network and carry it"
        return 2
    fi
    rm -rf "$site" && mkdir -p "$site"
    local pip=("$PYTHON" -m pip install --no-index --no-deps --no-compile --no-cache-dir
        --disable-pip-version-check --target "$site")
    local others=()
    for wheel in "$folder"/*.whl; do
        [[ $(basename "$wheel") == pycuda-* ]] || others+=("$wheel")
    done
    "${pip[@]}" "${others[@]}" || return 1
    local tag wheel
    tag=$("$PYTHON" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
    wheel=$(ls "$folder"/pycuda-*-"$tag"-*.whl 2>/dev/null | head -n 1)
    if [[ -n $wheel ]]; then
        "${pip[@]}" "$wheel" || return 1
    fi
    local error
    if ! error=$("$PYTHON" -c 'import pycuda.driver' 2>&1); then
        echo "$error"
        if [[ $error == *libcuda.so* ]]; then
            echo "no NVIDIA driver here (libcuda.so.1): nothing to check"
            return 1
        fi
        echo "no pycuda wheel for $tag that imports: building pycuda from its source"
        build_pycuda || return 1
    fi
    "$PYTHON" - <<'EOF'
import pycuda, pycuda.driver as cuda
cuda.init()
gpu = cuda.Device(0)
print("pycuda", pycuda.VERSION_TEXT, "driver CUDA", cuda.get_driver_version(), "->", gpu.name(),
      "sm_%d%d" % gpu.compute_capability())
from exprc.link.cuda.driver import cuda_unavailable_reason
reason = cuda_unavailable_reason()
if reason is not None:
    raise SystemExit(f"exprc cannot use CUDA here: {reason}")
from exprc.link.cuda.cublas import find_cublas
print("exprc can use CUDA; cuBLAS:", find_cublas())
EOF
}

build_pycuda() {
    local sdist work libcuda
    sdist=$(ls "$GPU_CHECK_FOLDER"/pycuda-*.tar.gz 2>/dev/null | head -n 1)
    [[ -n $sdist ]] || { echo "no pycuda source distribution in $GPU_CHECK_FOLDER"; return 1; }
    work=$(mktemp -d)
    tar -xzf "$sdist" -C "$work" || return 1
    # The linker wants libcuda.so; a driver installation may only have libcuda.so.1.
    libcuda=$(ldconfig -p | awk '/libcuda\.so\.1 .*x86-64/ {print $NF; exit}')
    if [[ -z $libcuda ]]; then
        for dir in ${LD_LIBRARY_PATH//:/ } /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu; do
            if [[ -e $dir/libcuda.so.1 ]]; then
                libcuda=$dir/libcuda.so.1
                break
            fi
        done
    fi
    mkdir -p "$work/lib"
    [[ -n $libcuda ]] && ln -sf "$libcuda" "$work/lib/libcuda.so"
    (cd "$work"/pycuda-*/ &&
        "$PYTHON" configure.py --cuda-root="$CUDA_HOME" --no-cuda-enable-curand \
            --cudadrv-lib-dir="$work/lib,$CUDA_HOME/lib64/stubs" &&
        "$PYTHON" -m pip wheel --no-index --no-build-isolation --no-deps -w "$work/dist" .) ||
        return 1
    "$PYTHON" -m pip install --no-index --no-deps --no-compile --target "$GPU_CHECK_SITE" \
        "$work"/dist/pycuda-*.whl
}

step_cuda_tests() {
    local files=()
    for file in tests/test_*.py; do
        [[ $file == tests/test_cuda_registry.py ]] && continue
        grep -q 'mark\.cuda' "$file" && files+=("$file")
    done
    "$PYTHON" -m pytest -m cuda -q -rs --durations=10 "${files[@]}"
}

step_registry() {
    "$PYTHON" -m pytest -m cuda -q -rs --durations=10 tests/test_cuda_registry.py
}

step_mnist() {
    # exprc falls back to the CPU, with a warning, when CUDA cannot be used: that fails here.
    local log rc
    log=$(mktemp)
    EXPRC_FLAGS=device=cuda "$PYTHON" examples/mnist_mlp.py --epochs 1 --no-progress 2>&1 |
        tee "$log"
    rc=${PIPESTATUS[0]}
    echo "nodes run on the CPU: $(grep -c CudaFallbackWarning "$log") warning(s)"
    if grep -q CudaUnavailableWarning "$log"; then
        echo "the example ran on the CPU, not on the GPU"
        return 1
    fi
    return "$rc"
}

step_bench() {
    # Short by default (eager PyTorch only, few samples) to fit the check; the full run is
    # benchmarks/run.py --device cuda alone.
    # shellcheck disable=SC2086  # the options are words on purpose
    "$PYTHON" benchmarks/run.py --device cuda \
        ${GPU_CHECK_BENCH_ARGS:---peers pytorch --repeat 5 --seconds 1 --markdown}
}

if [[ ${1:-} == --step ]]; then
    "step_$2"
    exit $?
fi

# --------------------------------------------------------------------------- the runner
out=$GPU_CHECK_OUT
mkdir -p "$out"
budget=${GPU_CHECK_SECONDS:-480}
deadline=$((SECONDS + budget))
summary=()
failed=0

note() {  # name, outcome
    summary+=("$(printf '%-11s %s' "$1" "$2")")
}

run_step() {  # name, limit in seconds
    local name=$1 limit=$2 left
    left=$((deadline - SECONDS - 5))
    if ((left < 15)); then
        note "$name" "skipped: out of time"
        return
    fi
    ((limit > left)) && limit=$left
    local log="$out/$name.log" started ended rc took
    started=$(date +%s.%N)
    echo "== $name (at most ${limit}s)"
    printf '$ bash tools/gpu_check.sh --step %s  (limit %ss)\n' "$name" "$limit" >"$log"
    timeout --kill-after=10 "$limit" bash "$repo/tools/gpu_check.sh" --step "$name" >>"$log" 2>&1
    rc=$?
    ended=$(date +%s.%N)
    took=$(awk -v a="$started" -v b="$ended" 'BEGIN {printf "%.1f", b - a}')
    printf '[exit %s after %ss]\n' "$rc" "$took" >>"$log"
    tail -n 4 "$log" | sed 's/^/   /'
    if ((rc == 124 || rc == 137)); then
        note "$name" "TIMED OUT after ${took}s (limit ${limit}s)"
        failed=1
    elif ((rc != 0)); then
        note "$name" "FAILED (exit $rc) in ${took}s"
        failed=1
    else
        note "$name" "passed in ${took}s"
    fi
}

run_step env 30
run_step install 240
run_step cuda_tests 180
if [[ -f tests/test_cuda_registry.py ]]; then
    run_step registry 200
else
    note registry "skipped: no tests/test_cuda_registry.py"
fi
if [[ -z ${EXPRC_MNIST:-} ]]; then
    note mnist "skipped: no mnist.npz (carry it in the wheel folder or set EXPRC_MNIST)"
elif ! grep -q -- '--epochs' examples/_common.py examples/mnist_mlp.py; then
    note mnist "skipped: examples/mnist_mlp.py takes no --epochs"
else
    run_step mnist 150
fi
if "$PYTHON" benchmarks/run.py --help 2>/dev/null | grep -q -- '--device'; then
    run_step bench 150
else
    note bench "skipped: benchmarks/run.py has no --device option"
fi

gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
{
    echo "GPU check of $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo 'this tree')" \
        "on ${gpu:-no GPU seen by nvidia-smi}"
    printf '%s\n' "${summary[@]}"
    echo "logs: $out/<step>.log"
} | tee "$out/summary.txt"
exit $failed
