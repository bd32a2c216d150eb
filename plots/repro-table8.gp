# plots/repro-table8.gp: Table 8 (SecureNN protocols): ours and published LAN and WAN times, one group per row.
#   gnuplot -e "in='results/repro.tsv'; out='plots/out/repro-table8'" plots/repro-table8.gp
# Input format: see repro.gp.
fig = ARG0
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
table = "8"
what = "time"
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."repro.gp"
