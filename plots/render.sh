#!/usr/bin/env bash
# Render every figure from the sample inputs in plots/sample/ (to check the
# scripts, or to see what the figures look like before the real results
# exist). Usage: plots/render.sh [OUTDIR]   (default plots/out)
# Writes OUTDIR/<figure>.png and .svg; exit status 1 if any figure failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/out}
s=$here/sample
command -v gnuplot >/dev/null || { echo "gnuplot not found" >&2; exit 2; }
mkdir -p "$out" || exit 2
failed=0

# q <string>: as the inside of a gnuplot single-quoted string (' doubled)
q() { printf '%s' "${1//\'/\'\'}"; }

# render <script> <out name> <gnuplot assignments> <input>...
render() {
	local script=$1 name=$2 extra=$3 in="" f
	shift 3
	for f in "$@"; do in="$in\"$(q "$f")\" "; done
	if gnuplot -e "in='$in'; out='$(q "$out/$name")'; $extra" "$here/$script.gp" &&
		[ -s "$out/$name.png" ] && [ -s "$out/$name.svg" ]; then
		echo "$out/$name.png $out/$name.svg"
	else
		echo "FAILED: $script.gp on $*" >&2
		failed=1
	fi
}

render repro-table8 repro-table8 "" "$s/repro.tsv"
render repro-table7 repro-table7 "" "$s/repro.tsv"
render repro-table7-comm repro-table7-comm "" "$s/repro.tsv"
render comm-layers comm-A "title='Network A, inference, batch 1'" "$s/comm-A.tsv"
render comm-layers comm-C "title='Network C, training, batch 2'" "$s/comm-C.tsv"
render sweep sweep "" "$s/sweep.tsv"
render sweep-bound sweep-bound "" "$s/sweep.tsv"
render train train "titles='lr 2^-5|lr 2^-6'; title='Network A, paper-lan (sample)'" \
	"$s/train-A-lr5.tsv" "$s/train-A-lr6.tsv"
exit "$failed"
