# plots/sweep.gp: simulated time of one network across network models.
# Left: against latency (log x), one line per bandwidth; right: against
# bandwidth (log x), one line per latency; both log y. Dashed lines mark the
# paper's LAN and WAN (0.11 ms / 625 MB/s, 29 ms / 40 MB/s) when in range.
#
#   gnuplot -e "in='plots/sample/sweep.tsv'; out='plots/out/sweep'" plots/sweep.gp
#
# With figure='bound' (what sweep-bound.gp does), a map instead: latency
# against bandwidth, each cell coloured by what bounds the run (the `bound`
# column: compute, latency, bandwidth or transfer) and labelled with sim_s.
#
# Input (snn sweep): columns
#   net batch mode latency_ms bandwidth_MBps sim_s compute_s latency_s transfer_s bound
# Variables: net, batch, mode: the rows to draw (default: those of the first
# row); figure: 'time' (default) or 'bound'.

if (!exists("fig")) { fig = ARG0 }
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."style.gp"

if (!exists("figure")) { figure = "time" }
if (figure ne "time" && figure ne "bound") {
	msg = sprintf("figure='%s'; accepted: time, bound", figure)
	@fail
}
cur = input(1)
cols = "net batch mode latency_ms bandwidth_MBps sim_s".(figure eq "bound" ? " bound" : "")
@need_input

# the rows drawn: net, batch and mode given, or those of the first row
first_net = ""
stats cur using (first_net eq "" ? (first_net = strcol("net"), first_batch = strcol("batch"), \
	first_mode = strcol("mode")) : 0, 0) nooutput
net = exists("net") ? "".net : first_net
batch = exists("batch") ? "".batch : first_batch
mode = exists("mode") ? "".mode : first_mode
# rows drawn: the selected ones with a time; on log axes (figure 'time') only
# positive, finite latencies and bandwidths (not 0 or inf)
finite(v) = v > 0 && v < 1e300
sel(d_) = strcol("net") eq net && strcol("batch") eq batch && strcol("mode") eq mode && \
	finite(column("sim_s")) && (figure eq "bound" || \
	(finite(column("latency_ms")) && finite(column("bandwidth_MBps"))))

lat_seen = "|"
bw_seen = "|"
bounds_seen = "|"
lat_min = 1e300
lat_max = 0
bw_min = 1e300
bw_max = 0
lo(a, b) = a < b ? a : b
hi(a, b) = a > b ? a : b
stats cur using (sel(0) ? (lat_seen = list_add(lat_seen, strcol("latency_ms")), \
	bw_seen = list_add(bw_seen, strcol("bandwidth_MBps")), \
	bounds_seen = figure eq "bound" ? list_add(bounds_seen, strcol("bound")) : bounds_seen, \
	lat_min = lo(lat_min, column("latency_ms")), lat_max = hi(lat_max, column("latency_ms")), \
	bw_min = lo(bw_min, column("bandwidth_MBps")), bw_max = hi(bw_max, column("bandwidth_MBps")), \
	1) : NaN) nooutput
if (!exists("STATS_records") || STATS_records == 0) {
	msg = sprintf("'%s' has no rows with net '%s', batch '%s', mode '%s' and a positive sim_s%s", \
		cur, net, batch, mode, figure eq "time" ? ", latency and bandwidth (0 and inf are left out)" : "")
	@fail
}
# 39.8107 -> "39.8", 2511.89 -> "2512"
short(s) = num(real(s))

# both lists in numeric order
lats = "|"
do for [r = 1:list_len(lat_seen)] { do for [i = 1:list_len(lat_seen)] {
	if (list_rank(lat_seen, real(list_item(lat_seen, i))) == r) { lats = list_add(lats, list_item(lat_seen, i)) }
} }
bws = "|"
do for [r = 1:list_len(bw_seen)] { do for [i = 1:list_len(bw_seen)] {
	if (list_rank(bw_seen, real(list_item(bw_seen, i))) == r) { bws = list_add(bws, list_item(bw_seen, i)) }
} }
n_lat = list_len(lats)
n_bw = list_len(bws)
what = sprintf("network %s, batch %s, %s", net, batch, mode)

if (figure eq "time") {
	# One data block per bandwidth and one per latency, each a block of
	# "x sim_s" rows separated by two blank lines (lines are drawn through
	# the rows of a block; rows filtered out with NaN would break them).
	on_line(c, v) = sel(0) && strcol(c) eq v
	undefine $by_bw
	undefine $by_lat
	do for [k = 1:n_bw] {
		set table $by_bw append
		plot cur using (column("latency_ms")):(column("sim_s")) with table if (on_line("bandwidth_MBps", list_item(bws, k)))
		unset table
		set print $by_bw append
		print ""
		print ""
		unset print
	}
	do for [k = 1:n_lat] {
		set table $by_lat append
		plot cur using (column("bandwidth_MBps")):(column("sim_s")) with table if (on_line("latency_ms", list_item(lats, k)))
		unset table
		set print $by_lat append
		print ""
		print ""
		unset print
	}
	# the blocks have no header line
	set datafile nocolumnheaders
	stats $by_bw using 2 nooutput
	t_min = STATS_min
	t_max = STATS_max
	# a margin of a fifth of a decade (at least) around the data
	set yrange [t_min / 1.6 : t_max * 1.6]
	set logscale xy 10
	set format x "%g"
	set format y "%g"
	set grid xtics ytics lt 1 lc rgb "#e0e0e0" lw 1 dt 1
	set ylabel "simulated time (s)"
	set key outside right top vertical Left reverse samplen 2 width 1
	set style line 100 lc rgb "#888888" dt 2 lw 1
	do for [fmt in formats] {
		eval term(fmt, 1400, 560)
		set output out.".".fmt
		set multiplot layout 1, 2 title sprintf("Simulated time, %s", what)
		unset arrow
		unset label
		if (lat_min <= 0.11 && 0.11 <= lat_max) {
			set arrow from 0.11, graph 0 to 0.11, graph 1 nohead ls 100 back
			set label "paper LAN" at 0.11, graph 0.97 left offset 0.5, 0 tc rgb "#666666" font ",9"
		}
		if (lat_min <= 29 && 29 <= lat_max) {
			set arrow from 29, graph 0 to 29, graph 1 nohead ls 100 back
			set label "paper WAN" at 29, graph 0.97 right offset -0.5, 0 tc rgb "#666666" font ",9"
		}
		set xrange [lat_min / 1.6 : lat_max * 1.6]
		set xlabel "latency (ms)"
		set key title "bandwidth"
		plot for [k = 1:n_bw] $by_bw index (k - 1) using 1:2 smooth unique with linespoints \
		    lw 2 pt 7 ps 0.6 lc rgb seq_color(k) title sprintf("%s MB/s", short(list_item(bws, k)))
		unset arrow
		unset label
		if (bw_min <= 625 && 625 <= bw_max) {
			set arrow from 625, graph 0 to 625, graph 1 nohead ls 100 back
			set label "paper LAN" at 625, graph 0.97 right offset -0.5, 0 tc rgb "#666666" font ",9"
		}
		if (bw_min <= 40 && 40 <= bw_max) {
			set arrow from 40, graph 0 to 40, graph 1 nohead ls 100 back
			set label "paper WAN" at 40, graph 0.97 left offset 0.5, 0 tc rgb "#666666" font ",9"
		}
		set xrange [bw_min / 1.6 : bw_max * 1.6]
		set xlabel "bandwidth (MB/s)"
		set key title "latency"
		plot for [k = 1:n_lat] $by_lat index (k - 1) using 1:2 smooth unique with linespoints \
		    lw 2 pt 7 ps 0.6 lc rgb seq_color(k) title sprintf("%s ms", short(list_item(lats, k)))
		unset multiplot
		unset output
	}
} else {
	# categories in a fixed order, then any other value of `bound`
	bounds = "|"
	do for [b in "compute latency bandwidth transfer"] { if (list_index(bounds_seen, b)) { bounds = bounds.b."|" } }
	do for [i = 1:list_len(bounds_seen)] { bounds = list_add(bounds, list_item(bounds_seen, i)) }
	n_bounds = list_len(bounds)
	cell_x(d_) = list_index(lats, strcol("latency_ms"))
	cell_y(d_) = list_index(bws, strcol("bandwidth_MBps"))
	set xtics () norotate
	do for [i = 1:n_lat] { set xtics add (short(list_item(lats, i)) i) }
	set ytics ()
	do for [i = 1:n_bw] { set ytics add (short(list_item(bws, i)) i) }
	set xrange [0.5:n_lat + 0.5]
	set yrange [0.5:n_bw + 0.5]
	set border 15
	set tics scale 0
	set grid noxtics noytics
	set xlabel "latency (ms)"
	set ylabel "bandwidth (MB/s)"
	set title sprintf("What bounds the simulated time (s in each cell), %s", what)
	set key outside right top vertical Left reverse samplen 2 width 1 title "bound"
	do for [fmt in formats] {
		eval term(fmt, 160 + 95 * n_lat + 170, 160 + 60 * n_bw)
		set output out.".".fmt
		plot for [k = 1:n_bounds] cur \
		        using (sel(0) && strcol("bound") eq list_item(bounds, k) ? cell_x(0) : NaN):(cell_y(0)): \
		              (cell_x(0) - 0.5):(cell_x(0) + 0.5):(cell_y(0) - 0.5):(cell_y(0) + 0.5) \
		        with boxxyerror fs solid 0.85 border lc rgb "white" \
		        fc rgb (bound_color(list_item(bounds, k)) ne "#bab0ac" ? bound_color(list_item(bounds, k)) : cycle_color(k)) \
		        title list_item(bounds, k), \
		     cur using (sel(0) ? cell_x(0) : NaN):(cell_y(0)):(sprintf("%.3g", column("sim_s"))) \
		        with labels font ",9" tc rgb "#111111"
		unset output
	}
}
