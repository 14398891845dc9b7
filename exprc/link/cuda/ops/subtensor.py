from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.subtensor import Subtensor
from exprc.tensor.subtensor import AdvancedSubtensor
from exprc.tensor.subtensor import IncSubtensor
from exprc.tensor.subtensor import AdvancedIncSubtensor
CUDA_CODE.exempt(Subtensor, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(AdvancedSubtensor, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(IncSubtensor, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(AdvancedIncSubtensor, "runs on the CPU with transfers: no CUDA kernel yet")
