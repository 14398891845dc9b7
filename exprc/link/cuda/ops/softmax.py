from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.nnet.softmax import Softmax
from exprc.tensor.nnet.softmax import LogSoftmax
from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels
CUDA_CODE.exempt(Softmax, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(LogSoftmax, "runs on the CPU with transfers: no CUDA kernel yet")
CUDA_CODE.exempt(CrossentropySoftmaxIntLabels, "runs on the CPU with transfers: no CUDA kernel yet")
