import sys; sys.path.insert(0,"benchmarks")
from bench_glmm import simulate
from psychometrics.multilevel import mixed
import cProfile, pstats, time
d=simulate(2000)
t=time.process_time(); fit=mixed("improved ~ month + condition + (1 | patient)", d, family="binomial"); print(time.process_time()-t)
cProfile.run('mixed("improved ~ month + condition + (1 | patient)", d, family="binomial")', "/tmp/lme4w/prof")
p=pstats.Stats("/tmp/lme4w/prof"); p.sort_stats("cumulative").print_stats(25)
