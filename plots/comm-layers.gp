# plots/comm-layers.gp: communication of one network per layer, stacked by
# protocol, in MB (10^6 bytes); the total of each layer above its bar.
#
#   gnuplot -e "in='plots/sample/comm-C.tsv'; out='plots/out/comm-C'; title='Network C'" plots/comm-layers.gp
#
# Input: one file per network (snn profile --comm-tsv), columns
#   layer     label of the layer, e.g. "L1 conv 5x5x20" (the x axis, in order of appearance)
#   protocol  matmul, conv2d, relu, drelu, maxpool, maxpool_derivative, argmax, asm, ...;
#             "PHASE:PROTOCOL" (backward:matmul) outside the forward pass: drawn
#             hatched in the protocol's colour
#   bytes     bytes sent by all parties for this layer and protocol
# A layer may have several rows; rows of the same layer and protocol add up.
# Other columns are ignored. Labels must not contain '|'.
# Variables: title (default: the file name).

if (!exists("fig")) { fig = ARG0 }
if (ARGC >= 1 && !exists("in")) { in = '"'.ARG1.'"' }
if (ARGC >= 2 && !exists("out")) { out = ARG2 }
dirof(p) = (q_ = strstrt(p, "/"), q_ == 0 ? "" : p[1:q_].dirof(p[q_ + 1:]))
load dirof(fig)."style.gp"

cur = input(1)
cols = "layer protocol bytes"
@need_input
if (!exists("title")) { title = basename(cur) }

layers = "|"
seen = "|"
total_mb = 0
stats cur using (layers = list_add(layers, strcol("layer")), seen = list_add(seen, strcol("protocol")), \
	total_mb = total_mb + column("bytes") / 1e6, 0) nooutput
n_layers = list_len(layers)

# protocols in a fixed order (the same stacking in every figure): the forward
# ones, then backward:..., update:..., then anything else
protocols = "|"
do for [ph in "- backward: update:"] {
	do for [p in protocol_order] {
		e_ = (ph eq "-" ? "" : ph).p
		if (list_index(seen, e_)) { protocols = protocols.e_."|" }
	}
}
do for [i = 1:list_len(seen)] {
	protocols = list_add(protocols, list_item(seen, i))
}
n_protocols = list_len(protocols)
# "backward:matmul" -> phase "backward", base "matmul"
phase_of(e) = strstrt(e, ":") ? e[1:strstrt(e, ":") - 1] : ""
base_of(e) = strstrt(e, ":") ? e[strstrt(e, ":") + 1:] : e
color_of(k) = protocol_color(base_of(list_item(protocols, k))) ne "" ? \
	protocol_color(base_of(list_item(protocols, k))) : cycle_color(k)
hatch_of(k) = protocol_dark(base_of(list_item(protocols, k))) ne "" ? \
	protocol_dark(base_of(list_item(protocols, k))) : cycle_color(k)
plain(k) = phase_of(list_item(protocols, k)) eq ""

# top of each layer's stack so far, and whether its total is labelled yet
array top[n_layers]
array labelled[n_layers]
layer_x(d_) = list_index(layers, strcol("layer"))
# stack a row of protocol p: returns the new top (its old top is in bottom)
stack(p) = strcol("protocol") eq p ? (i_ = layer_x(0), bottom = top[i_], \
	top[i_] = top[i_] + column("bytes") / 1e6, top[i_]) : NaN
total_once(d_) = (i_ = layer_x(0), labelled[i_] ? NaN : (labelled[i_] = 1, top[i_]))

set xtics ()
do for [i = 1:n_layers] { set xtics add (list_item(layers, i) i) }
set xrange [0.4:n_layers + 0.6]
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set ylabel "communication (MB = 10^6 bytes)"
set title sprintf("%s: communication per layer and protocol (total %s MB)", title, num(total_mb))
set key outside right top vertical reverse Left samplen 2 width 2 invert
rot = n_layers > 6
if (rot) { set xtics rotate by 30 right } else { set xtics norotate center }
w = n_layers > 8 ? 1200 : 1000
h = rot ? 620 : 560

do for [fmt in formats] {
	do for [i = 1:n_layers] { top[i] = 0; labelled[i] = 0 }
	eval term(fmt, w, h)
	set output out.".".fmt
	# forward protocols solid, the others hatched; each stacks on the last
	plot for [k = 1:n_protocols] cur \
	         using (plain(k) ? layer_x(0) : NaN):(y_ = plain(k) ? stack(list_item(protocols, k)) : NaN, (bottom + y_) / 2): \
	               (layer_x(0) - 0.35):(layer_x(0) + 0.35):(bottom):(y_) \
	         with boxxyerror fs solid 1.0 border lc rgb "#555555" fc rgb color_of(k) \
	         title (plain(k) ? list_item(protocols, k) : ""), \
	     for [k = 1:n_protocols] cur \
	         using (plain(k) ? NaN : layer_x(0)):(y_ = plain(k) ? NaN : stack(list_item(protocols, k)), (bottom + y_) / 2): \
	               (layer_x(0) - 0.35):(layer_x(0) + 0.35):(bottom):(y_) \
	         with boxxyerror fs pattern (phase_of(list_item(protocols, k)) eq "backward" ? 4 : 5) \
	         border lc rgb "#555555" fc rgb hatch_of(k) \
	         title (plain(k) ? "" : list_item(protocols, k)), \
	     cur using (layer_x(0)):(total_once(0)):(num(top[layer_x(0)])) \
	         with labels offset 0, 0.7 font ",9" tc rgb "#333333"
	unset output
}
