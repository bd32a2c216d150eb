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

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
