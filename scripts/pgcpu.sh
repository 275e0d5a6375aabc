#!/usr/bin/env bash
# pgcpu.sh: CPU time per operation of a Go benchmark against the local Postgres, which
# load on the machine changes far less than throughput: the server's CPU (every process
# of the postgres user, exited backends included through the postmaster's children) and
# the test binary's own.
#
#   go test -c -o /tmp/pg.test ./storage/postgres/
#   scripts/pgcpu.sh /tmp/pg.test 'Create$' 4000
#   scripts/pgcpu.sh /tmp/pg.test 'Create$' 8000
#
# Take the difference of two sizes divided by the difference in operations, so that the
# benchmark's setup cancels out. Needs a Postgres server run by the user postgres on this
# machine (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: $0 TESTBINARY BENCH-REGEX N" >&2
	exit 2
fi
pgticks() {
	local s=0 p f
	for p in $(pgrep -u postgres); do
		read -r -a f <"/proc/$p/stat" 2>/dev/null || continue
		s=$((s + f[13] + f[14] + f[15] + f[16]))
	done
	echo "$s"
}
hz=$(getconf CLK_TCK)
b0=$(pgticks)
out=$(TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable} \
	/usr/bin/time -f "CLIENT %U %S" "$1" -test.run '^$' -test.bench "$2" -test.benchtime "${3}x" 2>&1)
b1=$(pgticks)
echo "$out" | grep -E "^Benchmark" || true
client=$(echo "$out" | awk '/^CLIENT/{print $2 + $3}')
awk -v p=$((b1 - b0)) -v hz="$hz" -v c="$client" -v n="$3" 'BEGIN {
	printf "postgres %.2f s, client %.2f s; per operation: postgres %.3f ms, client %.3f ms (setup included)\n",
		p / hz, c, p / hz * 1000 / n, c * 1000 / n }'
