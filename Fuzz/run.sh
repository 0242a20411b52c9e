#!/usr/bin/env bash
# Fuzz/run.sh [SECONDS]: builds the libFuzzer targets (AddressSanitizer on) and runs each for
# SECONDS (default 60), starting from the seed corpora in Fuzz/Seeds. Exits non-zero when any
# fuzzer finds a crash, a hang (-timeout), an allocation over -malloc_limit_mb, a leak, or more
# resident memory than -rss_limit_mb; the input is left in .build-fuzz/runs/artifacts/<fuzzer>/.
# The corpus each run grows is kept in .build-fuzz/runs/corpus/ (longer runs by hand resume it).
# A single fuzzer: FUZZERS=FuzzNPY Fuzz/run.sh 600.
set -uo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/.."
scratch=.build-fuzz
build=(swift build -c release --package-path Fuzz --scratch-path "$scratch"
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
"${build[@]}" || { echo "fuzz: build failed"; exit 1; }
bin=$("${build[@]}" --show-bin-path)
runs=$scratch/runs

# fuzzer, seed folder, dictionary, largest input in bytes
fuzzers=(
  "FuzzCSV         csv         csv          8192"
  "FuzzNPY         npy         npy          4096"
  "FuzzSafeTensors safetensors safetensors 16384"
  "FuzzModel       model       model       16384"
  "FuzzCheckpoint  checkpoint  checkpoint  16384"
)
failed=()
summary=()
for line in "${fuzzers[@]}"; do
  read -r name seeds dict maxlen <<<"$line"
  if [ -n "${FUZZERS:-}" ] && [[ " $FUZZERS " != *" $name "* ]]; then continue; fi
  corpus=$runs/corpus/$name artifacts=$runs/artifacts/$name log=$runs/$name.log
  mkdir -p "$corpus" "$artifacts"
  echo "--- $name: $seconds s (log: $log)"
  # Swift's own backtracer is off so that a trap reaches libFuzzer's handler (which saves the input).
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64} \
  LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan-suppressions.txt:print_suppressions=0 \
    "$bin/$name" -max_total_time="$seconds" -max_len="$maxlen" \
      -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 \
      -dict="Fuzz/Dictionaries/$dict.dict" -artifact_prefix="$artifacts/" \
      -print_final_stats=1 "$corpus" "Fuzz/Seeds/$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  units=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
  if [ $rc -ne 0 ]; then
    failed+=("$name")
    summary+=("$name: FAILED (exit $rc) after ${execs:-?} executions")
    echo "!!! $name found a problem (exit $rc):"
    grep -v '^INFO:\|^#[0-9]' "$log" | grep -v '^$' | head -n 60
    ls -1 "$artifacts"
  else
    summary+=("$name: ${execs:-?} executions in $seconds s, ${units:-?} new corpus units, no crash")
  fi
done
echo "=== fuzz summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} fuzzer(s) found a problem: ${failed[*]}"
  exit 1
fi
