import sys, time, numpy as np; sys.path.insert(0,"benchmarks")
from bench_glmm import simulate
from psychometrics.multilevel import mixed
d=simulate(5000)
fit=mixed("improved ~ month + condition + (1 | patient)", d, family="binomial")
core=fit._core; x=np.concatenate([fit.theta,fit.fixef])
import line_profiler
