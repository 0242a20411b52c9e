#!/usr/bin/env bash
# The MPI job, end to end (issue 12): `mpirun -np P lockstep train --workers W` trains the model
# file that `lockstep train --workers P·W` trains, byte for byte; a killed rank ends the job with a
# message and leaves no process behind; an interrupted job resumes to the uninterrupted job's bytes.
# Usage: Tests/MPI/run.sh PATH/TO/lockstep (built with --traits MPI). Each check prints its name.
set -u
BIN=$(realspath() { cd "$(dirname "$1")" && echo "$PWD/$(basename "$1")"; }; realspath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../LockstepTests/Fixtures/digits.csv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl tcp,self)
LOUD=(train --data "$DATA" --batch-size 32 --dropout 0.1 --clip-norm 1 --seed 3)
TRAIN=("${LOUD[@]}" --quiet)
failed=0
check() { if "$@"; then echo "  ok: $NAME"; else echo "  FAILED: $NAME"; failed=1; fi; }

NAME="mpirun -np 2 --workers 2 gives the model file of --workers 4 (over TCP)"
"${MPIRUN[@]}" -np 2 "$BIN" "${TRAIN[@]}" --epochs 30 --workers 2 --save mpi22.safetensors --checkpoint-dir ck-mpi22 >log22 2>&1
"$BIN" "${TRAIN[@]}" --epochs 30 --workers 4 --save one4.safetensors --checkpoint-dir ck-one4 >log4 2>&1
check cmp -s mpi22.safetensors one4.safetensors

NAME="a second MPI run gives the same bytes"
"${MPIRUN[@]}" -np 2 "$BIN" "${TRAIN[@]}" --epochs 30 --workers 2 --save again.safetensors --checkpoint-dir ck-again >/dev/null 2>&1
check cmp -s mpi22.safetensors again.safetensors

NAME="mpirun -np 4 --workers 1 gives the model file of --workers 4"
"${MPIRUN[@]}" -np 4 "$BIN" "${TRAIN[@]}" --epochs 30 --workers 1 --save mpi41.safetensors --checkpoint-dir ck-mpi41 >/dev/null 2>&1
check cmp -s mpi41.safetensors one4.safetensors

NAME="only rank 0 wrote: one run folder, one model file"
check test "$(ls ck-mpi22)" = "run-0"

NAME="a job resumed from rank 0's mid-run checkpoint ends with the uninterrupted job's bytes"
first=$(ls ck-mpi22/run-0 | sort | head -1)
"${MPIRUN[@]}" -np 2 "$BIN" "${TRAIN[@]}" --epochs 30 --workers 2 --save resumed.safetensors --checkpoint-dir ck-resume \
  --resume-from "ck-mpi22/run-0/$first" >/dev/null 2>&1
check cmp -s resumed.safetensors mpi22.safetensors

NAME="an interrupted job (SIGINT to mpirun; SIGTERM to rank 0) leaves a checkpoint that --resume continues to the same bytes"
"${MPIRUN[@]}" -np 2 "$BIN" "${TRAIN[@]}" --epochs 300 --workers 2 --save whole.safetensors --checkpoint-dir ck-whole >/dev/null 2>&1 &
whole=$!
"${MPIRUN[@]}" -np 2 "$BIN" "${LOUD[@]}" --epochs 300 --workers 2 --save cut.safetensors --checkpoint-dir ck-cut >cut.log 2>&1 &
cut=$!
"${MPIRUN[@]}" -np 2 "$BIN" "${LOUD[@]}" --epochs 300 --workers 2 --save term.safetensors --checkpoint-dir ck-term >term.log 2>&1 &
term=$!
sleep 2
kill -INT $cut
for pid in $(pgrep -P $term); do
  if tr '\0' '\n' < /proc/$pid/environ | grep -qx OMPI_COMM_WORLD_RANK=0; then kill -TERM $pid; fi
done
wait $cut; status=$?
wait $term; termstatus=$?
wait $whole
check test $status -ne 0 -a $termstatus -ne 0
check grep -q "interrupted after step .*: checkpoint saved to" cut.log
check grep -q "interrupted after step .*: checkpoint saved to" term.log
"${MPIRUN[@]}" -np 2 "$BIN" "${TRAIN[@]}" --epochs 300 --workers 2 --save cut.safetensors --checkpoint-dir ck-cut --resume >resume.log 2>&1
check cmp -s cut.safetensors whole.safetensors
"${MPIRUN[@]}" -np 2 "$BIN" "${TRAIN[@]}" --epochs 300 --workers 2 --save term.safetensors --checkpoint-dir ck-term --resume >resume2.log 2>&1
check cmp -s term.safetensors whole.safetensors

NAME="a killed rank ends the job within seconds with a message, and no process is left"
"${MPIRUN[@]}" -np 2 "$BIN" "${TRAIN[@]}" --epochs 100000 --workers 2 --save never.safetensors --checkpoint-dir ck-killed >killed.log 2>&1 &
job=$!
sleep 2
victim=$(pgrep -P $job -f ck-killed | tail -1)
kill -9 "$victim"
for _ in $(seq 1 100); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
check test -n "$victim"
check bash -c "! kill -0 $job 2>/dev/null"
wait $job; status=$?
check test $status -ne 0
check grep -q "signal 9" killed.log
sleep 0.5
check bash -c "! pgrep -f 'ck-[k]illed' >/dev/null"
check test ! -e never.safetensors
pkill -9 -f ck-killed 2>/dev/null

NAME="two hosts (network namespaces joined by a veth pair, TCP between them) train --workers 4's model file"
bash "$HERE/two-hosts.sh" "$BIN" twohosts.safetensors "${TRAIN[@]:1}" --epochs 30 --checkpoint-dir ck-twohosts >twohosts.log 2>&1
check cmp -s twohosts.safetensors one4.safetensors

NAME="a process on other data stops the job, naming its host"
head -1500 "$DATA" > other.csv
"${MPIRUN[@]}" -np 2 bash -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then d=other.csv; else d='"$DATA"'; fi; exec '"$BIN"' train --data "$d" --epochs 2 --workers 1 --save other.safetensors --checkpoint-dir ck-other --quiet' >other.log 2>&1
status=$?
check test $status -ne 0
check grep -q "process 1 on $(hostname)\|process 1 on" other.log
check test ! -e other.safetensors

NAME="a process with other --epochs or --workers stops the job with a message, not a hang"
for differ in "e=3 w=2" "e=5 w=1"; do
  timeout 60 "${MPIRUN[@]}" -np 2 bash -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then '"$differ"'; else e=5 w=2; fi; exec '"$BIN"' train --data '"$DATA"' --epochs $e --workers $w --save differ.safetensors --checkpoint-dir ck-differ --quiet' >differ.log 2>&1
  status=$?
  check test $status -ne 0 -a $status -ne 124
  check grep -q "error: process [01] on .*process 1 .*\|error: process 1 on .*than process 0" differ.log
done
check test ! -e differ.safetensors

NAME="a binary built without MPI refuses to run as several processes of mpirun"
if [ -x "$HERE/../../.build/release/lockstep" ]; then
  "${MPIRUN[@]}" -np 2 "$HERE/../../.build/release/lockstep" "${TRAIN[@]}" --epochs 1 --workers 1 --save plain.safetensors --checkpoint-dir ck-plain >plain.log 2>&1
  check grep -q "built without MPI" plain.log
  check test ! -e plain.safetensors
fi

exit $failed
