from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.extra_ops import CumOp
from exprc.tensor.extra_ops import LinearRecurrence
from exprc.tensor.extra_ops import Repeat
from exprc.tensor.extra_ops import RepeatSum
from exprc.tensor.extra_ops import OneHot
from exprc.tensor.extra_ops import RuntimeCheck
from exprc.tensor.extra_ops import SearchSorted
CUDA_CODE.exempt(CumOp, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(LinearRecurrence, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(Repeat, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(RepeatSum, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(OneHot, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(RuntimeCheck, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(SearchSorted, "runs on the CPU with transfers: no CUDA kernel yet")
