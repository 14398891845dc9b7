from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.sort import Sort
from exprc.tensor.sort import ArgSort
from exprc.tensor.sort import Permute
CUDA_CODE.exempt(Sort, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(ArgSort, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(Permute, "runs on the CPU with transfers: no CUDA kernel yet")
