#!/bin/sh
# Run every test against the programs in BUILD (default build/): the C unit
# tests (TAP) and every bats suite, then print one line "N passed, N failed".
# With a second argument VGBUILD (a build without sanitizers), the unit
# tests of that build also run under valgrind: any error or definite leak
# fails them.
# Sanitizer reports from any process (handlers spawned by servers included)
# are collected in one directory; any report is a failed test.
BUILD=${1:-build}
VGBUILD=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
export POSTERN_BUILD="$BUILD"
san=$(mktemp -d "${TMPDIR:-/tmp}/postern-san.XXXXXX")
export ASAN_OPTIONS="detect_leaks=1:log_path=$san/asan:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan"
export POSTERN_SANDIR="$san"
passed=0
failed=0
out=$(mktemp)

count() {
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	passed=$((passed + p))
	failed=$((failed + f))
}

for t in "$BUILD"/tests/test-*; do
	[ -x "$t" ] || continue
	echo "== $(basename "$t")"
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	count
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
		echo "not ok - $(basename "$t") exited with status $rc"
		failed=$((failed + 1))
	fi
done

for s in "$top"/tests/*.bats; do
	[ -f "$s" ] || continue
	echo "== $(basename "$s")"
	(cd "$top" && bats --tap "$s") >"$out" 2>&1
	cat "$out"
	count
done

if [ -n "$VGBUILD" ]; then
	case $VGBUILD in /*) ;; *) VGBUILD=$top/$VGBUILD ;; esac
	echo "== valgrind"
	for t in "$VGBUILD"/tests/test-*; do
		[ -x "$t" ] || continue
		if (cd "$top" && ASAN_OPTIONS= UBSAN_OPTIONS= valgrind -q --error-exitcode=99 \
			--leak-check=full --errors-for-leak-kinds=definite "$t") >"$out" 2>&1; then
			echo "ok - valgrind: $(basename "$t")"
			passed=$((passed + 1))
		else
			sed 's/^/# /' "$out" | tail -40
			echo "not ok - valgrind: $(basename "$t")"
			failed=$((failed + 1))
		fi
	done
fi

if ls "$san"/* >/dev/null 2>&1; then
	for r in "$san"/*; do
		echo "not ok - sanitizer report $(basename "$r")"
		sed 's/^/# /' "$r"
		failed=$((failed + 1))
	done
else
	echo "ok - no sanitizer reports"
	passed=$((passed + 1))
fi
rm -rf "$san" "$out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
