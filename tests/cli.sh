#!/usr/bin/env bash
# Command-line behaviour of snn: bad flags and values are errors that name
# the flag and the accepted values, with a non-zero exit; good calls work.
# Usage: tests/cli.sh path/to/snn
set -u
snn=${1:?usage: tests/cli.sh path/to/snn}
pass=0
fail=0

# expect <exit code> <text expected in stdout+stderr> -- args...
expect() {
	local code=$1 text=$2
	shift 3
	local out rc
	out=$(timeout 120 "$snn" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$code" ] && grep -qF -- "$text" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL: snn %s\n  expected exit %s and "%s"; got exit %s:\n%s\n' "$*" "$code" "$text" "$rc" "$(head -5 <<<"$out")"
	fi
}

expect 2 "usage: snn <command>" -- 
expect 0 "commands:" -- help
expect 0 "--network SPEC" -- help bench
expect 2 "unknown command 'frobnicate'" -- frobnicate
expect 2 "unknown option '--bogus'" -- bench matmul 2,2,2 --bogus
expect 2 "unknown protocol 'matmull'; accepted: matmul conv2d" -- bench matmull 2,2,2
expect 2 "expected 3 positive integers m,n,v" -- bench matmul 2,2
expect 2 "expected 3 positive integers m,n,v" -- bench matmul 2,0,2
expect 2 "expected 3 positive integers m,n,v" -- bench matmul 2,2,2x
expect 2 "--reps: expected an integer from 1 to 100000, got 'zero'" -- bench matmul 2,2,2 --reps zero
expect 2 "--reps needs a value" -- bench matmul 2,2,2 --reps
expect 2 "--network" -- bench matmul 2,2,2 --network paper-moon
expect 2 "ambiguous" -- bench matmul 2,2,2 --network bw=10Mb/s
expect 2 "--clock: unknown value 'fast'; accepted: virtual, real" -- bench matmul 2,2,2 --clock fast
expect 2 "--seed: expected an integer" -- bench matmul 2,2,2 --seed -1
expect 2 "--timeout" -- bench matmul 2,2,2 --timeout 5
expect 1 "does not fit" -- bench conv2d 4,5,1,1
expect 2 "--tsv: cannot write" -- bench matmul 2,2,2 --tsv /nonexistent/dir/x.tsv
expect 0 "matmul" -- bench matmul 3,4,5 --reps 2
expect 0 '"bytes":' -- bench conv2d 6,3,2,2 --reps 1 --json
expect 0 "paper-wan" -- bench matmul 3,4,5 --reps 1 --network paper-wan
expect 0 "verified" -- bench gemm 16,16,16 --reps 1

# expect_out <stdin text> <expected stdout> -- args...: exact revealed outputs
expect_out() {
	local input=$1 want=$2
	shift 3
	local got
	got=$(printf '%b' "$input" | timeout 120 "$snn" "$@" 2>/dev/null | sed 's/,"items".*//')
	if [ "$got" = "$(printf '%b' "$want")" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL: snn %s\n  expected:\n%b\n  got:\n%s\n' "$*" "$want" "$got"
	fi
}

expect_out '1.5\n-2.25\n0\n' '1.500000\n0.000000\n0.000000' -- eval relu
expect_out '1.5\n-2.25\n0\n' '1\n0\n1' -- eval drelu
expect_out '5 4\n4 5\n7 7\n-1 3\n' '1\n0\n0\n1' -- eval private_compare
expect_out '3 1 2 9\n5 5 1 0\n' '9.000000 3\n5.000000 1' -- eval maxpool --window 4
expect_out '3 1 9\n5 5 1\n' '0 0 1\n0 1 0' -- eval dmaxpool --window 3
expect_out '1 2 3\n0 2 3\n' '3.000000\n2.000000' -- eval select_share
expect_out '1 2 3 4\n5 6 7 8\n' '19.000000 22.000000\n43.000000 50.000000' -- eval matmul --dims 2,2,2
expect_out '1 2\n3 4\n' '0.500000\n0.750000' -- eval division
expect_out '-5\n5\n' '1\n0' -- eval msb --raw
expect_out '10\n18446744073709551614\n' '10\n18446744073709551614' -- eval share_convert
expect_out '1.5 2\n-3 0.5\n' '{"protocol":"mul","outputs":[3.000000,-1.500000]' -- eval mul --json
expect 2 "unknown protocol 'relux'" -- eval relux
expect 2 "needs --window" -- eval maxpool
expect 2 "cannot read 'no-such-file'" -- eval relu no-such-file
printf '1 2\n' >"${TMPDIR:-/tmp}/snn-cli-$$.txt"
expect 2 "expected 1 value per line, got 2" -- eval relu "${TMPDIR:-/tmp}/snn-cli-$$.txt"
printf '2 1\n' >"${TMPDIR:-/tmp}/snn-cli-$$.txt"
expect 2 "division needs 0 <= x <= y" -- eval division "${TMPDIR:-/tmp}/snn-cli-$$.txt"
printf '1e300\n' >"${TMPDIR:-/tmp}/snn-cli-$$.txt"
expect 2 "out of range" -- eval relu "${TMPDIR:-/tmp}/snn-cli-$$.txt"
expect 2 "must be a power of two" -- train --net A --lr 0.01
expect 2 "must be a power of two" -- train --net A --batch 100
expect 2 "--net is required" -- train
expect 2 "--model is required" -- infer
expect 2 "--mode: unknown value 'fast'; accepted:" -- train --net A --mode fast
expect 2 "--save is for --mode secure" -- train --net A --mode fixed --save /tmp/snn-cli-x
expect 2 "--shadow is for --mode secure" -- train --net A --mode float --shadow
expect 2 "--change-lr goes with --resume" -- train --net A --change-lr
expect 2 "--lr-decay: '3,2' must be 'none' or up to 16 increasing epochs" -- train --net A --lr-decay 3,2
expect 2 "--lr-decay: '1' must be" -- train --net A --lr-decay 1
expect 2 "--lr-decay: '5,x' must be" -- train --net A --lr-decay 5,x
expect 2 "would fall to 2^-41, below 2^-40" -- train --net A --lr 2^-40 --lr-decay 9
expect 0 "--lr-decay E,..." -- train --help

# Training runs on a few images (skipped without MNIST: scripts/test sets up without data).
if [ -f "${SNN_DATA:-data/mnist}/train-images-idx3-ubyte" ]; then
	tdir=$(mktemp -d)
	small=(--train-limit 256 --test-limit 100 --quiet)
	# (--curve none or in $tdir: the default of the cleartext modes is results/ckpt/)
	expect 0 "epoch 2/2: lr 2^-6, loss" -- train --net A --mode fixed --epochs 2 --lr 2^-5 --lr-decay 2 "${small[@]}" --curve none
	expect 0 '"mode":"float"' -- train --net A --mode float "${small[@]}" --json --curve "$tdir/float.tsv"
	expect 0 "cleartext model written to $tdir/f.clear" -- train --net A --mode fixed "${small[@]}" --reveal "$tdir/f.clear" --curve none
	expect 0 "accuracy" -- infer --model "$tdir/f.clear" --test-limit 100 --quiet
	expect 0 "(the float model rounded to fixed point)" -- train --net A --mode float "${small[@]}" --reveal "$tdir/g.clear" --curve none
	expect 0 "epoch 1/1: lr 2^-5" -- train --net A "${small[@]}" --lr 2^-5 --lr-decay 2 --save "$tdir/ck"
	expect 2 "was trained with lr 2^-5, batch 128, halved at epochs 2; --lr differs" -- train --net A "${small[@]}" --epochs 2 --lr 2^-6 --resume "$tdir/ck"
	expect 2 "; --batch differs" -- train --net A "${small[@]}" --epochs 2 --batch 64 --resume "$tdir/ck"
	expect 2 "; --lr-decay differs" -- train --net A "${small[@]}" --epochs 2 --lr-decay none --resume "$tdir/ck"
	expect 0 "epoch 2/2: lr 2^-6" -- train --net A "${small[@]}" --epochs 2 --resume "$tdir/ck"
	expect 0 "epoch 3/3: lr 2^-8" -- train --net A "${small[@]}" --epochs 3 --lr 2^-7 --change-lr --resume "$tdir/ck"
	expect 0 "epoch 4/4: lr 2^-8" -- train --net A "${small[@]}" --epochs 4 --lr 2^-7 --resume "$tdir/ck"
	expect 0 "shadow layer 1 (fc 128): |act| " -- train --net A "${small[@]}" --shadow --save "$tdir/sh"
	# A checkpoint of format version 1 (no learning rate) is still resumed.
	if command -v python3 >/dev/null; then
		python3 - "$tdir/ck" "$tdir/v1" <<'PY'
import struct, sys
def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h
for j in (0, 1):
    b = open(f"{sys.argv[1]}.p{j}", "rb").read()
    v1 = bytearray(b[:48] + b[128:-8])
    v1[8:12] = struct.pack("<I", 1)
    v1 += struct.pack("<Q", fnv(v1))
    open(f"{sys.argv[2]}.p{j}", "wb").write(bytes(v1))
PY
		expect 0 "checkpoint of format version 1, which does not store the learning rate: training on with lr 2^-6" -- train --net A "${small[@]}" --epochs 5 --lr 2^-6 --resume "$tdir/v1"
		# ...and saved again in format version 2, with the learning rate it went on with.
		expect 2 "v1.p0 was trained with lr 2^-6, batch 128; --lr differs" -- train --net A "${small[@]}" --epochs 6 --lr 2^-5 --resume "$tdir/v1"
	fi
	rm -rf "$tdir"
else
	echo "cli: no MNIST in ${SNN_DATA:-data/mnist}: training runs skipped"
fi
# snn train --curve on a tiny synthetic MNIST (runs without data/mnist): 256 training and
# 100 test images of random bytes, labels 0..9, in valid idx files.
syn=$(mktemp -d)
# be32 <v>: four bytes, big-endian
be32() {
	local o k
	for k in 24 16 8 0; do
		printf -v o '%03o' $(($1 >> k & 255))
		printf "\\$o"
	done
}
# idx_set <stem> <n>: <stem>-images-idx3-ubyte (magic 0x803, n x 28 x 28) and
# <stem>-labels-idx1-ubyte (magic 0x801, n labels)
idx_set() {
	local o v
	{ be32 2051; be32 "$2"; be32 28; be32 28; head -c $(($2 * 784)) /dev/urandom; } >"$syn/$1-images-idx3-ubyte"
	{
		be32 2049
		be32 "$2"
		for v in $(head -c "$2" /dev/urandom | od -An -v -tu1); do
			printf -v o '%03o' $((v % 10))
			printf "\\$o"
		done
	} >"$syn/$1-labels-idx1-ubyte"
}
idx_set train 256
idx_set t10k 100
# check_curve <file> <first epoch> <last epoch>: '#' lines, a header that starts with
# plots/train.gp's six columns, then one row per epoch in order, fractions in 0..1, no nan
check_curve() {
	awk -F'\t' -v first="$2" -v last="$3" '
		/^#/ { next }
		!h { h = 1; nf = NF
		     if ($1 != "epoch" || $2 != "loss" || $3 != "train_acc" || $4 != "test_acc" ||
		         $5 != "wall_s" || $6 != "sim_s" || $7 != "lr") bad = 1
		     e = first; next }
		{ if (NF != nf || $1 != e || $3 < 0 || $3 > 1 || $4 < 0 || $4 > 1 || tolower($0) ~ /nan/) bad = 1
		  e++ }
		END { exit !(h && !bad && e == last + 1) }' "$1" 2>/dev/null
}
# check <description> <command...>: one check that passes if the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what"
	fi
}
syn_run=(--net A --data "$syn" --quiet)
expect 0 "training curve written to $syn/c.tsv" -- train "${syn_run[@]}" --mode fixed --epochs 2 --train-limit 256 --batch 128 --curve "$syn/c.tsv"
check "snn train --mode fixed --curve: $syn/c.tsv has no rows for epochs 1..2" check_curve "$syn/c.tsv" 1 2
check "snn train --curve: no '# mode: fixed' and '# command: snn train' metadata" \
	grep -q '^# command: snn train --net A' "$syn/c.tsv"
expect 0 "epoch 1/1" -- train "${syn_run[@]}" --epochs 1 --train-limit 256 --test-limit 100 --save "$syn/ck"
check "snn train --save: no curve beside the checkpoint" check_curve "$syn/ck.tsv" 1 1
cp "$syn/ck.p0" "$syn/e1.p0" && cp "$syn/ck.p1" "$syn/e1.p1"
expect 0 '"curve":"'"$syn/ck.tsv"'"' -- train "${syn_run[@]}" --resume "$syn/ck" --epochs 2 --test-limit 100 --json
check "snn train --resume: the curve does not continue with epochs 1..2" check_curve "$syn/ck.tsv" 1 2
# From the epoch-1 checkpoint again into ck: the row of epoch 2 is replaced, not repeated.
expect 0 "epoch 2/2" -- train "${syn_run[@]}" --resume "$syn/e1" --save "$syn/ck" --epochs 2 --test-limit 100
check "snn train --resume from an earlier epoch: the later rows are not dropped" check_curve "$syn/ck.tsv" 1 2
check "snn train --resume: no '# resumed' and '# earlier command' lines" \
	grep -q '^# resumed at epoch 2: the 1 row before come from .*(its rows of later epochs dropped)$' "$syn/ck.tsv"
expect 0 "note: --curve: cannot read '$syn/new.tsv'" -- train "${syn_run[@]}" --resume "$syn/e1" --save "$syn/e1" --epochs 2 --test-limit 100 --curve "$syn/new.tsv"
check "snn train --resume without a curve: a new one does not start at epoch 2" check_curve "$syn/new.tsv" 2 2
# --grad: the output gradient is part of the stored schedule.
expect 2 "--grad: unknown value 'softmax'; accepted: paper, ce, ce-ry" -- train --net A --grad softmax
expect 0 '"grad":"ce"' -- train "${syn_run[@]}" --grad ce --epochs 1 --train-limit 256 --test-limit 100 --save "$syn/ce" --json
expect 2 "output gradient ce; --grad differs" -- train "${syn_run[@]}" --resume "$syn/ce" --epochs 2 --grad paper
expect 0 '"grad":"ce"' -- train "${syn_run[@]}" --resume "$syn/ce" --epochs 2 --test-limit 100 --json
expect 0 '"grad":"ce-ry"' -- train "${syn_run[@]}" --resume "$syn/ce" --epochs 3 --test-limit 100 --grad ce-ry --change-lr --json
# The default (results/ckpt/<net>-<mode>.tsv in the cleartext modes) and none, in empty folders.
snn_abs=$(cd "$(dirname "$snn")" && pwd)/$(basename "$snn")
mkdir "$syn/def" "$syn/none"
(cd "$syn/def" && "$snn_abs" train "${syn_run[@]}" --mode float --train-limit 128 >/dev/null 2>&1)
check "snn train --mode float: no curve in results/ckpt/A-float.tsv" check_curve "$syn/def/results/ckpt/A-float.tsv" 1 1
(cd "$syn/none" && "$snn_abs" train "${syn_run[@]}" --mode fixed --train-limit 128 --curve none >/dev/null 2>&1)
check "snn train --curve none wrote files" [ -z "$(ls -A "$syn/none")" ]
# The figures: with gnuplot beside each curve, without it a note and none.
if command -v gnuplot >/dev/null; then
	for f in c ck new; do
		check "snn train --curve: no $syn/$f.png and $syn/$f.svg" eval \
			'[ "$(head -c 8 "$syn/$f.png" 2>/dev/null | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ] && grep -q "</svg>" "$syn/$f.svg"'
	done
fi
out=$(PATH=/nonexistent "$snn" train "${syn_run[@]}" --mode fixed --train-limit 128 --curve "$syn/np.tsv" 2>&1)
check "snn train without gnuplot: no 'gnuplot not found: plots skipped', or a figure" \
	eval 'grep -q "gnuplot not found: plots skipped" <<<"$out" && [ ! -e "$syn/np.png" ] && check_curve "$syn/np.tsv" 1 1'
rm -rf "$syn"
views=$(mktemp -d)
printf '1\n-1\n' >"${TMPDIR:-/tmp}/snn-cli-$$.txt"
expect 0 "drelu on 2 items: 1328 bytes" -- eval drelu "${TMPDIR:-/tmp}/snn-cli-$$.txt" --views "$views"
if [ -s "$views/P2.txt" ] && grep -q '^msg 1 from P0 round 1 bytes 16 scope drelu/share_convert' "$views/P2.txt"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: --views did not write P2's first message"
fi
rm -rf "$views" "${TMPDIR:-/tmp}/snn-cli-$$.txt"

# snn sweep: one run re-timed over a latency x bandwidth grid
expect 2 "--net is required" -- sweep
expect 2 "--latency: '5': missing unit" -- sweep --net A --latency 5
expect 2 "needs A < B" -- sweep --net A --latency 10ms..1ms
expect 2 "needs at least 2 points" -- sweep --net A --latency 1ms..10ms:1
expect 2 "ambiguous unit" -- sweep --net A --bandwidth 10Mb/s
expect 2 "must be finite" -- sweep --net A --bandwidth inf..1GB/s
expect 2 "points after ':': expected an integer from 1 to 64" -- sweep --net A --latency 1ms..2ms:0
expect 2 "unknown option '--bogus'" -- sweep --net A --bogus
expect 2 "must be a power of two" -- sweep --net A --train --batch 3
expect 0 "equal to the run" -- sweep --net A --latency 1ms..10ms:2 --bandwidth 10MB/s --network paper-lan
expect 0 '"bound":"latency"' -- sweep --net A --latency 29ms --bandwidth inf --json
sweep_tsv="${TMPDIR:-/tmp}/snn-cli-sweep-$$.tsv"
expect 0 "bandwidth-bound" -- sweep --net A --train --latency 0.1ms..10ms:3 --bandwidth 1MB/s..1GB/s:2 --tsv "$sweep_tsv"
if grep -q '^# seed: 1$' "$sweep_tsv" &&
	grep -q '^net	batch	mode	latency_ms	bandwidth_MBps	sim_s	compute_s	latency_s	transfer_s	bound$' "$sweep_tsv" &&
	[ "$(grep -c '^A	1	train	' "$sweep_tsv")" = 6 ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: snn sweep --tsv did not write the metadata, the header and 6 rows"
fi
rm -f "$sweep_tsv"

# snn profile: the tree beside the formulas, bad input, the TSV tables and the trace.
expect 0 "formula check: measured bytes equal the formula at all" -- profile --net A-bench --batch 1
expect 0 "whole run: 2100984 bytes" -- profile --net A-bench --batch 1
expect 0 "Table 7, network A, batch 1: 2.1 MB published" -- profile --net A-bench --batch 1
expect 0 "layer2 relu 128" -- profile --net A-bench --batch 1
expect 0 '"mismatches":0' -- profile --net A-bench --batch 2 --json
expect 0 "backward" -- profile --net A --train --batch 4 --iters 2
expect 2 "--net is required" -- profile
expect 2 "not a built-in network" -- profile --net Q
expect 2 "--batch: expected an integer from 1" -- profile --net A --batch 0
expect 2 "--network" -- profile --net A --network paper-moon
expect 2 "must be a power of two" -- profile --net A --train --batch 3
expect 2 "unknown option '--bogus'" -- profile --net A --bogus
expect 2 "--tsv: cannot write" -- profile --net A --tsv /nonexistent/dir/x.tsv
expect 2 "--trace: cannot write" -- profile --net A --trace /nonexistent/dir/x.json
prof="${TMPDIR:-/tmp}/snn-cli-profile-$$"
expect 0 "formula check" -- profile --net B-bench --tsv "$prof.tsv" --trace "$prof.json"
if grep -q '^# seed: 1$' "$prof.tsv" &&
	grep -q '^path	phase	layer	layer_desc	protocol	depth	calls	bytes	formula_bytes	diff_bytes	msgs	rounds	paper_rounds	cpu_p0_s	cpu_p1_s	cpu_p2_s	wait_s	sim_s	wall_s	formula$' "$prof.tsv" &&
	grep -q '^forward/layer2/maxpool	forward	2	maxpool 2x2 24x24x16	maxpool	3	1	5142528	5142528	0	' "$prof.tsv" &&
	grep -q '^layer	protocol	bytes	phase$' "$prof-comm.tsv" &&
	grep -q '^L1 conv 5x5x16	matmul	310528	forward$' "$prof-comm.tsv" &&
	grep -q '"traceEvents"' "$prof.json"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: snn profile --tsv/--trace did not write the tree, the communication table and the trace"
fi
rm -f "$prof.tsv" "$prof-comm.tsv" "$prof.json"

# plots/: every figure script renders its sample input to a PNG and an SVG,
# and a missing or data-less input stops the script with a message naming
# the file (skipped without gnuplot).
plots_dir=$(cd "$(dirname "$0")/../plots" && pwd)
if command -v gnuplot >/dev/null; then
	pout=$(mktemp -d)
	"$plots_dir/render.sh" "$pout" >/dev/null 2>"$pout/log"
	for f in repro-table8 repro-table7 repro-table7-comm comm-A comm-C sweep sweep-bound train; do
		if [ "$(head -c 8 "$pout/$f.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
			grep -q '</svg>' "$pout/$f.svg" 2>/dev/null; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			printf 'FAIL: plots/render.sh did not write %s.png and %s.svg:\n%s\n' "$f" "$f" "$(tail -5 "$pout/log")"
		fi
	done
	printf '# no rows\nepoch\tloss\ttrain_acc\ttest_acc\n' >"$pout/empty.tsv"
	printf 'epoch\tloss\n1\t0.5\n' >"$pout/cols.tsv"
	for c in "no-such.tsv:is missing, unreadable or has no data rows" \
		"empty.tsv:is missing, unreadable or has no data rows" \
		"cols.tsv:has no column 'train_acc'"; do
		out=$(gnuplot -e "in='$pout/${c%%:*}'; out='$pout/x'" "$plots_dir/train.gp" 2>&1)
		if [ $? != 0 ] && grep -qF -- "'$pout/${c%%:*}' ${c#*:}" <<<"$out"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			printf 'FAIL: plots/train.gp on %s: expected an error "%s"; got:\n%s\n' "${c%%:*}" "${c#*:}" "$out"
		fi
	done
	rm -rf "$pout"
else
	echo "cli: gnuplot not found: plot checks skipped"
fi

# snn repro: bad flags; a quick Table 8 run whose TSV parses and whose comm rows all match;
# the committed results/repro.tsv has the documented shape.
expect 2 "unknown table '9'" -- repro --tables 9
expect 2 "paper-lan and paper-wan" -- repro --network paper-lan
expect 2 "unknown option '--bogus'" -- repro --bogus
rout=$(mktemp -d)
expect 0 "Communication matches every published figure" -- repro --quick --tables 8 --out "$rout" --no-plots --quiet
check_repro_tsv() { # file min_rows
	awk -F'\t' -v min="$2" '
		/^#/ { next }
		!h { h = 1; if ($0 != "table\titem\tdims\tbatch\tepochs\tmetric\tours\tpublished\tratio\tunit\tnote") bad = 1; next }
		{ n++; if (NF != 11) bad = 1; if ($6 == "comm" && $8 != "nan" && $11 ~ /differ/) bad = 1 }
		END { exit !(h && !bad && n >= min) }' "$1"
}
if check_repro_tsv "$rout/repro.tsv" 54 && grep -q '^# level: quick' "$rout/repro.tsv"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: snn repro --tables 8 wrote no well-formed $rout/repro.tsv"
fi
rm -rf "$rout"
repo_results="$(dirname "$0")/../results/repro.tsv"
if [ -f "$repo_results" ]; then
	if check_repro_tsv "$repo_results" 170; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: results/repro.tsv does not parse as documented in results/README.md"
	fi
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
