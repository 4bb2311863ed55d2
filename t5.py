import sys, time, numpy as np; sys.path.insert(0,"benchmarks")
from bench_glmm import simulate
from psychometrics.multilevel import mixed
d=simulate(5000)
t=time.process_time(); fit=mixed("improved ~ month + condition + (1 | patient)", d, family="binomial"); print("fit cpu", time.process_time()-t)
core=fit._core; x=np.concatenate([fit.theta,fit.fixef])
for g in (False, True):
    t=time.process_time()
    for _ in range(10): core.deviance(x[:1],x[1:],grad=g)
    print("grad" if g else "dev", (time.process_time()-t)/10)
t=time.process_time()
for _ in range(10): core.modes(x[1:],x[:1])
print("modes", (time.process_time()-t)/10)
