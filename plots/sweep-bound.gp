# plots/sweep-bound.gp: which resource bounds each run of a network sweep
# (compute, latency or bandwidth), latency against bandwidth; see sweep.gp.
#   gnuplot -e "in='plots/sample/sweep.tsv'; out='plots/out/sweep-bound'" plots/sweep-bound.gp
fig = ARG0
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
figure = "bound"
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."sweep.gp"
