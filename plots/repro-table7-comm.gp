# plots/repro-table7-comm.gp: Table 7: ours and published communication (MB) per network and batch.
#   gnuplot -e "in='results/repro.tsv'; out='plots/out/repro-table7-comm'" plots/repro-table7-comm.gp
# Input format: see repro.gp.
fig = ARG0
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
table = "7"
what = "comm"
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."repro.gp"
