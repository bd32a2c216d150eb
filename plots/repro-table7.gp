# plots/repro-table7.gp: Table 7 (inference, networks A-D, batch 1 and 128): ours and published LAN and WAN times.
#   gnuplot -e "in='results/repro.tsv'; out='plots/out/repro-table7'" plots/repro-table7.gp
# Input format: see repro.gp.
fig = ARG0
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
table = "7"
what = "time"
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."repro.gp"
