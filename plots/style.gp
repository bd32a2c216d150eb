# plots/style.gp: settings and helpers shared by every figure script.
#
# A figure script starts with these lines, then loads this file:
#
#   fig = ARG0
#   if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
#   if (ARGC >= 2 && !exists("out")) { out = ARG2 }
#   dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
#   load dirof(fig)."style.gp"
#
# (`load` resets ARG0..ARGC, so the script keeps its own first.) Variables a
# script receives, with gnuplot -e "in='...'; out='...'" script.gp or
# gnuplot -c script.gp IN OUT:
#
#   in    input TSV path(s), separated by blanks; a path with blanks goes in
#         double quotes inside the string: in='"my runs/a.tsv" b.tsv'
#   out   output path without extension: the script writes out.png and
#         out.svg (a trailing .png or .svg is dropped)
#
# Inputs are TSV: '#' comment lines, a header line of column names, rows.

# msg = "..."; @fail: print "<script>: <msg>" and stop with exit status 1
# (exit error would cut long messages)
fail = 'print sprintf("%s: %s", fig, msg); exit status 1'

if (!exists("in") || !exists("out") || strlen(in) == 0 || strlen(out) == 0) {
	msg = sprintf("usage: gnuplot -e \"in='FILE.tsv'; out='DIR/NAME'\" %s  (writes DIR/NAME.png and DIR/NAME.svg), or gnuplot -c %s FILE.tsv DIR/NAME", fig, fig)
	@fail
}
if (strlen(out) > 4 && (out[strlen(out) - 3:] eq ".png" || out[strlen(out) - 3:] eq ".svg")) {
	out = out[1:strlen(out) - 4]
}

# --- input files -----------------------------------------------------------

n_inputs = words(in)
input(i) = word(in, i)
# "results/train-A.tsv" -> "train-A"
basename(p) = (b_ = p[strlen(dirof(p)) + 1:], \
	strlen(b_) > 4 && b_[strlen(b_) - 3:] eq ".tsv" ? b_[1:strlen(b_) - 4] : b_)

set datafile separator tab
set datafile columnheaders
set datafile commentschars "#"
set datafile missing "-"

# @need_input: check the file named by `cur` (rows, and the columns named in
# `cols`, blank-separated); stop with a message naming the file otherwise.
# Sets n_rows and hdr (the header line).
need_input = 'undefine STATS_*; stats cur using 0 nooutput; if (!exists("STATS_records")) { print sprintf("%s: input file ''%s'' is missing, unreadable or has no data rows", fig, cur); exit status 1 }; n_rows = STATS_records; set datafile separator "\001"; set datafile nocolumnheaders; stats cur every ::0::0 using (hdr = strcol(1), 0) nooutput; set datafile separator tab; set datafile columnheaders; do for [c_ in cols] { if (!strstrt("\t".hdr."\t", "\t".c_."\t")) { print sprintf("%s: input file ''%s'' has no column ''%s'' (it needs: %s)", fig, cur, c_, cols); exit status 1 } }'

# --- distinct values: a list "|a|b|c|" in order of first appearance ---------

# list_add(l, v): l with v appended unless present
list_add(l, v) = strstrt(l, "|".v."|") ? l : l.v."|"
# list_len(l), list_item(l, i) (1-based), list_index(l, v) (0: absent)
bars(s) = (q_ = strstrt(s, "|"), q_ == 0 ? 0 : 1 + bars(s[q_ + 1:]))
list_len(l) = bars(l) - 1
nth(s, i) = (q_ = strstrt(s, "|"), i <= 1 ? s[1:q_ - 1] : nth(s[q_ + 1:], i - 1))
list_item(l, i) = nth(l[2:], i)
list_index(l, v) = (p_ = strstrt(l, "|".v."|"), p_ == 0 ? 0 : bars(l[1:p_]))
# list_rank(l, x): 1 + how many numeric items of l are below x (sorted position)
below(s, x) = (q_ = strstrt(s, "|"), q_ == 0 ? 0 : (real(s[1:q_ - 1]) < x) + below(s[q_ + 1:], x))
list_rank(l, x) = 1 + below(l[2:], x)

# --- units -----------------------------------------------------------------

# to_base(u): factor from unit u to seconds or bytes; 0 for an unknown unit
to_base(u) = u eq "ns" ? 1e-9 : u eq "us" ? 1e-6 : u eq "ms" ? 1e-3 : u eq "s" ? 1 : \
	u eq "min" ? 60 : u eq "h" ? 3600 : u eq "B" ? 1 : u eq "kB" ? 1e3 : u eq "MB" ? 1e6 : \
	u eq "GB" ? 1e9 : u eq "KiB" ? 1024 : u eq "MiB" ? 1048576 : u eq "GiB" ? 1073741824 : 0
# value v in unit u expressed in unit w (v unchanged if either unit is unknown)
in_unit(v, u, w) = (to_base(u) > 0 && to_base(w) > 0) ? v * to_base(u) / to_base(w) : v
positive(v) = v > 0 ? v : NaN
# a value label without exponents: 1066, 29.4, 0.0032
num(v) = abs(v) >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v)

# --- colours (the same thing has the same colour in every figure) ----------

c_ours_lan = "#1f5fa8"
c_pub_lan = "#9cc3ea"
c_ours_wan = "#d9670b"
c_pub_wan = "#f7c08a"
c_ours = "#2b7a3d"
c_pub = "#a6d8a8"
# protocols, and then a cycle for anything else
protocol_order = "conv2d matmul drelu relu maxpool maxpool_derivative mul argmax asm division"
protocol_color(p) = p eq "conv2d" ? "#4e79a7" : p eq "matmul" ? "#a0cbe8" : \
	p eq "relu" ? "#f28e2b" : p eq "drelu" ? "#ffbe7d" : p eq "maxpool" ? "#59a14f" : \
	p eq "maxpool_derivative" ? "#8cd17d" : p eq "argmax" ? "#b6992d" : \
	p eq "mul" ? "#9c755f" : p eq "asm" ? "#e15759" : p eq "division" ? "#ff9d9a" : ""
# darker shades, for the hatching of phase:protocol (backward:matmul) on white
protocol_dark(p) = p eq "conv2d" ? "#2c4f78" : p eq "matmul" ? "#3b7fb6" : \
	p eq "relu" ? "#b85f10" : p eq "drelu" ? "#e07b1a" : p eq "maxpool" ? "#2f6e2a" : \
	p eq "maxpool_derivative" ? "#4f9d44" : p eq "argmax" ? "#7d6a1c" : \
	p eq "mul" ? "#6b4c3a" : p eq "asm" ? "#a8242d" : p eq "division" ? "#d9534f" : ""
cycle_colors = "#79706e #d37295 #b07aa1 #9d7660 #499894 #86bcb6 #bab0ac #f1ce63"
cycle_color(i) = word(cycle_colors, (int(i) - 1) % words(cycle_colors) + 1)
# ordered series (one line per bandwidth, ...): dark to light
seq_colors = "#08306b #2171b5 #4292c6 #41ab5d #a1d99b #fd8d3c #d94801 #7f2704 #54278f #9e9ac8"
seq_color(i) = word(seq_colors, (int(i) - 1) % words(seq_colors) + 1)
# runs overlaid in one figure
run_colors = "#1f5fa8 #d9670b #2b7a3d #b0306b #6a3d9a #8c6d31 #17becf #7f7f7f"
run_color(i) = word(run_colors, (int(i) - 1) % words(run_colors) + 1)
# what bounds a run
bound_color(b) = b eq "compute" ? "#59a14f" : b eq "latency" ? "#f28e2b" : \
	(b eq "bandwidth" || b eq "transfer") ? "#4e79a7" : "#bab0ac"

# --- terminals ---------------------------------------------------------------

if (!exists("png_term")) { png_term = strstrt(GPVAL_TERMINALS, " pngcairo ") ? "pngcairo" : "png" }
# eval term(fmt, w, h): select the terminal for fmt ("png" or "svg"), w x h pixels.
# noenhanced: labels such as relu_after_drelu are printed as they are.
term(fmt, w, h) = fmt eq "svg" ? \
	sprintf("set terminal svg size %d,%d fixed noenhanced font 'Sans,11' background rgb 'white'", w, h) : \
	png_term eq "pngcairo" ? \
	sprintf("set terminal pngcairo size %d,%d noenhanced font 'Sans,10' background rgb 'white'", w, h) : \
	sprintf("set terminal png size %d,%d noenhanced background rgb 'white'", w, h)
formats = "png svg"

set border 3 lw 1 lc rgb "#444444"
set tics nomirror out scale 0.6
set grid ytics lt 1 lc rgb "#d0d0d0" lw 1 dt 1
set key noautotitle opaque box lc rgb "#cccccc"
set style fill solid 1.0 border lc rgb "#555555"
