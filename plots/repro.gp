# plots/repro.gp: ours against the published figures of one table of the
# paper, grouped bars on a log scale. Used through repro-table8.gp,
# repro-table7.gp and repro-table7-comm.gp; runnable alone as
#
#   gnuplot -e "in='results/repro.tsv'; out='plots/out/t7'; table='7'; what='time'" plots/repro.gp
#
# Input (results/repro.tsv, written by snn repro): columns
#   table item dims batch epochs metric ours published ratio unit note
# metric: lan_time, wan_time, comm; published: a number, or nan or - where the
# paper has none (that bar is left out). Times in any of ns us ms s min h and
# communication in B kB MB GB are drawn in the unit of the table's first row.
#
# Variables: table ('8', '7', ...; default '8'), what ('time': ours and
# published LAN and WAN times; 'comm': ours and published communication).

if (!exists("fig")) { fig = ARG0 }
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."style.gp"

if (!exists("table")) { table = "8" }
table = "".table
if (!exists("what")) { what = "time" }
if (what ne "time" && what ne "comm") {
	msg = sprintf("what='%s'; accepted: time, comm", what)
	@fail
}

cur = input(1)
cols = "table item dims batch metric ours published unit"
@need_input

# A bar group per row of the table: "conv2d m=8,f=5,i=16,o=50", "A b128".
# ("-" reads as empty: set datafile missing "-")
group(d_) = strcol("item") . (strcol("dims") ne "" ? " ".strcol("dims") : "") . \
	(table ne "8" && strcol("batch") ne "" ? " b".strcol("batch") : "")
wanted(m) = what eq "time" ? (m eq "lan_time" || m eq "wan_time") : m eq "comm"
in_table(d_) = strcol("table") eq table && wanted(strcol("metric"))

# y of a row of metric m, column c ("ours" or "published"), in `unit`
val(m, c) = in_table(0) && strcol("metric") eq m ? \
	positive(in_unit(column(c), strcol("unit"), unit)) : NaN
x_of(dx) = list_index(groups, group(0)) + dx
# smallest and largest bar
y_lo = 1e300
y_hi = 0
track(y) = (y == y ? (y_lo = y < y_lo ? y : y_lo, y_hi = y > y_hi ? y : y_hi) : 0)

groups = "|"
unit = ""
stats cur using (in_table(0) ? (groups = list_add(groups, group(0)), \
	unit = (unit eq "" ? strcol("unit") : unit), \
	track(val(strcol("metric"), "ours")), track(val(strcol("metric"), "published")), 1) : 0) nooutput
n_groups = list_len(groups)
if (n_groups == 0) {
	msg = sprintf("'%s' has no %s rows of table %s", cur, \
		what eq "time" ? "lan_time or wan_time" : "comm", table)
	@fail
}
if (y_hi == 0) {
	msg = sprintf("'%s': no positive values in the rows of table %s", cur, table)
	@fail
}

set xtics () 
do for [i = 1:n_groups] { set xtics add (list_item(groups, i) i) }
set xrange [0.4:n_groups + 0.6]
set logscale y 10
set format y "%g"
set mytics 10
set grid ytics nomytics lt 1 lc rgb "#d0d0d0" lw 1 dt 1
# from the decade below the smallest bar, with room above the largest for the key
e_lo = floor(log10(y_lo))
e_hi = log10(y_hi)
set yrange [10**e_lo : 10**(e_hi + 0.18 * (e_hi - e_lo) + 0.15)]
set key top left horizontal maxrows 1 reverse Left samplen 2

if (what eq "time") {
	bw = 0.19
	set boxwidth bw absolute
	ylab = sprintf("time (%s, log scale)", unit)
	ttl = sprintf("Table %s: ours (simulated) and published time, LAN and WAN", table)
} else {
	bw = 0.34
	set boxwidth bw absolute
	ylab = sprintf("communication (%s, log scale)", unit)
	ttl = sprintf("Table %s: ours and published communication", table)
}
set ylabel ylab
set title ttl
# long row labels: slanted
rot = n_groups > 8 || strlen(groups) / n_groups > 12
if (rot) { set xtics rotate by 35 right } else { set xtics norotate center }
# room on the left for the first slanted label
set lmargin (rot ? (strlen(list_item(groups, 1)) * 0.75 > 10 ? int(strlen(list_item(groups, 1)) * 0.75) : 10) : 10)
w = n_groups > 8 ? 1400 : 1000
h = rot ? 680 : 560

do for [fmt in formats] {
	eval term(fmt, w, h)
	set output out.".".fmt
	if (what eq "time") {
		plot cur using (x_of(-1.5 * bw)):(val("lan_time", "ours")) with boxes lc rgb c_ours_lan title "ours, LAN", \
		     cur using (x_of(-0.5 * bw)):(val("lan_time", "published")) with boxes lc rgb c_pub_lan title "published, LAN", \
		     cur using (x_of(0.5 * bw)):(val("wan_time", "ours")) with boxes lc rgb c_ours_wan title "ours, WAN", \
		     cur using (x_of(1.5 * bw)):(val("wan_time", "published")) with boxes lc rgb c_pub_wan title "published, WAN"
	} else {
		# values on the bars while they fit (up to 12 groups)
		plot cur using (x_of(-0.5 * bw)):(val("comm", "ours")) with boxes lc rgb c_ours title "ours", \
		     cur using (x_of(0.5 * bw)):(val("comm", "published")) with boxes lc rgb c_pub title "published", \
		     cur using (n_groups <= 12 ? x_of(-0.5 * bw) : NaN):(val("comm", "ours")):(num(val("comm", "ours"))) \
		         with labels offset 0, 0.6 font ",8" tc rgb "#333333", \
		     cur using (n_groups <= 12 ? x_of(0.5 * bw) : NaN):(val("comm", "published")):(num(val("comm", "published"))) \
		         with labels offset 0, 0.6 font ",8" tc rgb "#333333"
	}
	unset output
}
