# plots/train.gp: training curves, one or more runs overlaid. Top: loss per
# epoch; bottom: test accuracy (solid) and training accuracy (dashed), %.
#
#   gnuplot -e "in='plots/sample/train-A-lr5.tsv plots/sample/train-A-lr6.tsv'; out='plots/out/train'" plots/train.gp
#   gnuplot -e "in='a.tsv b.tsv'; out='x'; titles='lr 2^-5|lr 2^-6'; title='Network A'" plots/train.gp
#
# Input: one file per run (snn train), columns
#   epoch loss train_acc test_acc wall_s sim_s
# accuracies as fractions (0..1) or percentages (a file whose accuracies are
# all <= 1 is read as fractions). Variables: titles (run names separated by
# '|'; default: the file names), title (of the figure).

if (!exists("fig")) { fig = ARG0 }
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."style.gp"

cols = "epoch loss train_acc test_acc"
n_runs = n_inputs
array acc_scale[n_runs]
epoch_max = 0
loss_max = 0
acc_min = 100
do for [i = 1:n_runs] {
	cur = input(i)
	@need_input
	stats cur using (column("epoch")):(column("loss")) nooutput
	epoch_max = STATS_max_x > epoch_max ? STATS_max_x : epoch_max
	loss_max = STATS_max_y > loss_max ? STATS_max_y : loss_max
	stats cur using (column("test_acc")):(column("train_acc")) nooutput
	acc_scale[i] = (STATS_max_x <= 1 && STATS_max_y <= 1) ? 100 : 1
	a_ = (STATS_min_x < STATS_min_y ? STATS_min_x : STATS_min_y) * acc_scale[i]
	acc_min = a_ < acc_min ? a_ : acc_min
}
run_title(i) = exists("titles") ? (words_ = "|".titles."|", \
	i <= list_len(words_) ? list_item(words_, i) : basename(input(i))) : basename(input(i))
if (!exists("title")) { title = n_runs == 1 ? basename(input(1)) : "Training" }

set xrange [0.5:epoch_max + 0.5]
if (epoch_max <= 30) { set xtics 1 } else { set xtics autofreq }
set grid xtics ytics lt 1 lc rgb "#e4e4e4" lw 1 dt 1
set key outside right top vertical Left reverse samplen 3 width 1
# the same margins for both panels; the right one holds the keys
title_len = 0
do for [i = 1:n_runs] { title_len = strlen(run_title(i)) > title_len ? strlen(run_title(i)) : title_len }
set lmargin 10
set rmargin title_len + 16
# accuracy from the ten below the worst value, so early epochs stay visible
acc_lo = acc_min > 0 ? floor(acc_min / 10) * 10 : 0

do for [fmt in formats] {
	eval term(fmt, 1000, 720)
	set output out.".".fmt
	set multiplot layout 2, 1 title title
	set ylabel "loss"
	set yrange [0:loss_max * 1.08]
	set format x ""
	unset xlabel
	set bmargin 1
	set tmargin 2
	plot for [i = 1:n_runs] input(i) using (column("epoch")):(column("loss")) \
	    with linespoints lw 2 pt 7 ps 0.7 lc rgb run_color(i) title run_title(i)
	set ylabel "accuracy (%)"
	set yrange [acc_lo:100]
	set format x "%g"
	set xlabel "epoch"
	set bmargin 3.5
	set tmargin 1
	plot for [i = 1:n_runs] input(i) using (column("epoch")):(column("test_acc") * acc_scale[i]) \
	        with linespoints lw 2 pt 7 ps 0.7 lc rgb run_color(i) title sprintf("%s, test", run_title(i)), \
	     for [i = 1:n_runs] input(i) using (column("epoch")):(column("train_acc") * acc_scale[i]) \
	        with lines lw 1.5 dt 2 lc rgb run_color(i) title sprintf("%s, train", run_title(i))
	unset multiplot
	unset output
}
