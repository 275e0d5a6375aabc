#!/usr/bin/env bash
# benchcmp.sh BASE [NEW]: compare the engine and connector benchmarks of two commits in
# one run, and flag every metric that got worse by more than THRESHOLD percent.
#
#   scripts/benchcmp.sh 45d1e94              # BASE against this work tree (HEAD plus
#                                            # uncommitted changes)
#   scripts/benchcmp.sh 45d1e94 b98dedd      # two commits
#   ROUNDS=1 BENCHSCALE=0.1 scripts/benchcmp.sh b98dedd   # a quick check of the script
#
# BASE (and NEW if given) is checked out into a throwaway `git worktree` under a temp dir,
# removed on exit. Each package's test binary is built once per side, then the binaries run
# alternately, base then new, benchmark row by row, for ROUNDS rounds, each with a fixed
# -test.benchtime Nx, under scripts/testenv.sh (TEST_DATABASE_URL and TEST_REDIS_URL, with
# throwaway servers if none answers). The table gives the median of the rounds per side.
# The default counts take about 10 minutes on 2 cores (12 at load average 3-4).
#
# Environment:
#   ROUNDS=5          rounds (each runs every row once per side)
#   BENCHSCALE=1      multiplies every row's N (0.1: a tenth of the operations)
#   THRESHOLD=5       percent: worse by more than this is flagged WORSE (exit status 1)
#   BENCHCMP_TABLE    rows "label package bench-regex N", replacing the table below;
#   BENCHCMP_BASE_TABLE, BENCHCMP_NEW_TABLE  the same for one side only, for benchmarks
#                     that moved to another package: rows pair up by label and bench name
#   BENCHCMP_OUT=DIR  keep the raw outputs as DIR/base.txt and DIR/new.txt (benchstat reads them)
# Units ending in /s are throughput (lower is worse); any other (ns/op, p99-ms, B/op,
# allocs/op...) is a cost (higher is worse). A package or benchmark found on one side only is
# reported, not fatal.
set -euo pipefail

table='
# label   package             bench regex                       N (ops per run)
postgres  ./storage/postgres  ^Benchmark(Create|Take|Reply)$    4000
sqlite    ./storage/sqlite    ^Benchmark(Create|Take|Reply)$    4000
web       ./connectors/web    ^BenchmarkCreateHTTP$             6000
slack     ./connectors/slack  ^BenchmarkSlashCommands300$       3000
'

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	sed -n '2,27s/^# \{0,1\}//p' "$here/benchcmp.sh" >&2
	exit 2
fi
repo=$(git -C "$here" rev-parse --show-toplevel)
base=$(git -C "$repo" rev-parse --verify "$1^{commit}")
new=''
[ $# -eq 2 ] && new=$(git -C "$repo" rev-parse --verify "$2^{commit}")
# Everything runs under testenv.sh, which stops its throwaway servers after we exit.
if [ -z "${BENCHCMP_UNDER_TESTENV:-}" ]; then
	BENCHCMP_UNDER_TESTENV=1 exec "$here/testenv.sh" "$here/benchcmp.sh" "$@"
fi

rounds=${ROUNDS:-5}
scale=${BENCHSCALE:-1}
threshold=${THRESHOLD:-5}
log() { printf 'benchcmp: %s\n' "$*" >&2; }
describe() { git -C "$repo" log -1 --format='%h %s' "$1" | cut -c1-90; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/benchcmp.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local d
	for d in "$tmp/base" "$tmp/new"; do
		[ -d "$d" ] && { git -C "$repo" worktree remove --force "$d" >/dev/null 2>&1 || true; }
	done
	rm -rf "$tmp"
	git -C "$repo" worktree prune || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

declare -A dir rows
dir[base]=$tmp/base
git -C "$repo" worktree add --quiet --detach "$tmp/base" "$base"
if [ -n "$new" ]; then
	dir[new]=$tmp/new
	git -C "$repo" worktree add --quiet --detach "$tmp/new" "$new"
	new_what=$(describe "$new")
else
	dir[new]=$repo
	new_what="work tree $(describe HEAD)"
	if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
		new_what="$new_what, with uncommitted changes"
	fi
fi
rows[base]=$(grep -v '^ *\(#\|$\)' <<<"${BENCHCMP_BASE_TABLE:-${BENCHCMP_TABLE:-$table}}" || true)
rows[new]=$(grep -v '^ *\(#\|$\)' <<<"${BENCHCMP_NEW_TABLE:-${BENCHCMP_TABLE:-$table}}" || true)

# Build each package's test binary once per side: $tmp/bin/SIDE/LABEL.test.
notes=$tmp/notes
: >"$notes"
for side in base new; do
	mkdir -p "$tmp/bin/$side"
	while read -r label pkg _; do
		bin=$tmp/bin/$side/$label.test
		if [ ! -d "${dir[$side]}/$pkg" ]; then
			echo "$label: $pkg does not exist on the $side side" >>"$notes"
		elif ! (cd "${dir[$side]}" && go test -c -o "$bin" "$pkg") </dev/null >"$tmp/build.log" 2>&1; then
			echo "$label: $pkg does not build on the $side side:" >>"$notes"
			sed 's/^/    /' "$tmp/build.log" | head -20 >>"$notes"
		elif [ ! -x "$bin" ]; then
			echo "$label: $pkg has no tests on the $side side" >>"$notes"
		fi
	done <<<"${rows[$side]}"
done

# run SIDE LABEL PKG REGEX N: one run of one row; appends "side label bench unit value"
# lines to $tmp/results and the raw output to $tmp/SIDE.txt.
run() {
	local side=$1 label=$2 pkg=$3 re=$4 n=$5 bin=$tmp/bin/$1/$2.test out rc=0 start=$SECONDS
	[ -x "$bin" ] || return 0
	out=$(cd "${dir[$side]}/$pkg" && "$bin" -test.run '^$' -test.bench "$re" \
		-test.benchtime "${n}x" -test.benchmem -test.timeout 30m </dev/null 2>&1) || rc=$?
	printf '%s\n' "$out" >>"$tmp/$side.txt"
	log "round $round/$rounds $side $label: $((SECONDS - start)) s"
	if [ "$rc" -ne 0 ]; then
		log "$label on the $side side exited with $rc; its last lines:"
		tail -n 15 <<<"$out" >&2
	fi
	awk -v side="$side" -v label="$label" '
		/^Benchmark/ && NF >= 4 && $2 ~ /^[0-9]+$/ {
			name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
			for (i = 3; i < NF; i += 2) print side, label, name, $(i + 1), $i
			found = 1
		}
		END { if (!found) exit 1 }' <<<"$out" >>"$tmp/results" ||
		echo "$label: no benchmark matching $re ran on the $side side" >>"$notes"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$tmp/results"
for round in $(seq "$rounds"); do
	for label in $(printf '%s\n%s\n' "${rows[base]}" "${rows[new]}" | awk '!seen[$1]++ { print $1 }'); do
		for side in base new; do
			n=''
			read -r _ pkg re n < <(awk -v l="$label" '$1 == l { print; exit }' <<<"${rows[$side]}") || true
			[ -n "$n" ] || continue
			run "$side" "$label" "$pkg" "$re" "$(awk -v n="$n" -v s="$scale" 'BEGIN {
				n = int(n * s + 0.5); print (n < 1 ? 1 : n) }')"
		done
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

if [ -n "${BENCHCMP_OUT:-}" ]; then
	mkdir -p "$BENCHCMP_OUT"
	cp "$tmp/base.txt" "$tmp/new.txt" "$BENCHCMP_OUT/" 2>/dev/null || true
fi

echo "base: $(describe "$base")"
echo "new:  $new_what"
echo "$(nproc) cores, $(go env GOVERSION), $rounds rounds, BENCHSCALE=$scale; load average at start: $load_start"
awk '!seen[$0]++ { print "note: " $0 }' "$notes"
echo
rc=0
awk -v thr="$threshold" '
	function median(list,   v, n, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function spread(list,   v, n, i, lo, hi, m) {
		n = split(list, v, " "); lo = hi = v[1] + 0
		for (i = 2; i <= n; i++) { if (v[i] + 0 < lo) lo = v[i] + 0; if (v[i] + 0 > hi) hi = v[i] + 0 }
		m = median(list)
		return m ? (hi - lo) / m * 100 : 0
	}
	function num(x) { return x >= 100 ? sprintf("%.0f", x) : x >= 1 ? sprintf("%.2f", x) : sprintf("%.3g", x) }
	{
		k = $2 "/" $3 " " $4
		if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
		vals[$1, k] = vals[$1, k] " " $5
	}
	END {
		fmt = "%-34s %-11s %12s %12s %8s %7s  %s"
		printf fmt "\n", "benchmark", "metric", "base", "new", "change", "spread", "verdict"
		for (i = 1; i <= nk; i++) {
			k = order[i]; split(k, f, " ")
			b = (("base", k) in vals); n = (("new", k) in vals)
			bm = b ? median(vals["base", k]) : 0; nm = n ? median(vals["new", k]) : 0
			change = "-"; sp = "-"; verdict = !b ? "only in new" : !n ? "only in base" : ""
			if (b && n) {
				sp = sprintf("%.1f%%", spread(vals["base", k]) > spread(vals["new", k]) ? spread(vals["base", k]) : spread(vals["new", k]))
				if (bm != 0) {
					pct = (nm - bm) / bm * 100
					change = sprintf("%+.1f%%", pct)
					worse = f[2] ~ /\/s$/ ? -pct : pct
					if (worse > thr) { verdict = "WORSE"; bad = 1 } else if (worse < -thr) verdict = "better"
				}
			}
			line = sprintf(fmt, f[1], f[2], b ? num(bm) : "-", n ? num(nm) : "-", change, sp, verdict)
			sub(/ +$/, "", line)
			print line
		}
		exit bad
	}' "$tmp/results" || rc=$?
echo
echo "load average at end: $load_end (spread: (max-min)/median of the rounds, the larger side)"
exit "$rc"
