#!/usr/bin/env bash
# lsan_sweep.sh ABLATE SWEEP: runs a short real sweep with LeakSanitizer preloaded
# into the ordinary Release `ablate` (GCC's standalone liblsan intercepts malloc in
# every library, LibTorch included) and fails on any leak it reports. A control
# run of a program that leaks on purpose proves the preload is active.
# Exit 77 (skipped) when liblsan is not installed.
set -euo pipefail
ablate=$1 sweep=$2
lsan=$(ls /usr/lib/x86_64-linux-gnu/liblsan.so.0 /usr/lib/*/liblsan.so.0 2>/dev/null | head -n 1 || true)
if [ -z "$lsan" ]; then echo "skipped: no liblsan.so.0 (Debian: liblsan0)"; exit 77; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LSAN_OPTIONS=exitcode=23

# The control: a leak must be reported through the same preload.
if LD_PRELOAD=$lsan python3 -c 'import ctypes; ctypes.CDLL(None).malloc(4321)' 2> "$work/control.err"; then :; fi
if ! grep -q "LeakSanitizer" "$work/control.err"; then
  echo "the LeakSanitizer preload is not active (no report for a deliberate leak)"; exit 1
fi

status=0
LD_PRELOAD=$lsan "$ablate" run "$sweep" -o "$work/lsan.h5" --threads 1 --progress quiet > "$work/out.log" 2> "$work/err.log" \
  || status=$?
if [ "$status" -ne 0 ] || grep -q "LeakSanitizer" "$work/err.log"; then
  echo "ablate run under LeakSanitizer exited with $status:"; cat "$work/out.log" "$work/err.log"; exit 1
fi
grep "done, 0 failed" "$work/out.log"
echo "lsan sweep: no leaks"
