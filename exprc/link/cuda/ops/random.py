from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.random import RandomUniform
from exprc.tensor.random import RandomNormal
from exprc.tensor.random import RandomIntegers
from exprc.tensor.random import RandomBinomial
from exprc.tensor.random import RandomChoice
from exprc.tensor.random import RandomPermutation
CUDA_CODE.exempt(RandomUniform, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(RandomNormal, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(RandomIntegers, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(RandomBinomial, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(RandomChoice, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(RandomPermutation, "runs on the CPU with transfers: no CUDA kernel yet")
