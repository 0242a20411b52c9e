#!/usr/bin/env bash
# Two "hosts" on one machine: network namespaces lockstep-h1 (10.77.0.1) and lockstep-h2
# (10.77.0.2) joined by a veth pair, each with a hostname of its own (a UTS namespace). mpirun
# runs in h1 and starts h2's OpenMPI daemon through a launch agent that enters h2 (this script
# with --agent) instead of ssh; the ranks talk TCP over the veth pair. Needs root and iproute2.
# Usage: Tests/MPI/two-hosts.sh LOCKSTEP_BUILT_WITH_MPI OUTPUT.safetensors [train options…]
#   — runs `lockstep train --workers 2 …` as 2 processes, one per host, and writes OUTPUT.
set -eu
if [ "${1:-}" = "--agent" ]; then   # OpenMPI calls, as it would ssh: AGENT HOST 'COMMAND LINE'
  shift
  while [ "${1#-}" != "$1" ]; do shift; done   # ssh-style options OpenMPI may pass
  host=$1; shift
  exec ip netns exec "lockstep-$host" unshare --uts sh -c "hostname $host; exec $*"
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); OUTPUT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cleanup() { ip netns del lockstep-h1 2>/dev/null || true; ip netns del lockstep-h2 2>/dev/null || true; }
cleanup
trap cleanup EXIT
ip netns add lockstep-h1
ip netns add lockstep-h2
ip link add lsveth1 type veth peer name lsveth2
ip link set lsveth1 netns lockstep-h1
ip link set lsveth2 netns lockstep-h2
ip -n lockstep-h1 addr add 10.77.0.1/24 dev lsveth1
ip -n lockstep-h2 addr add 10.77.0.2/24 dev lsveth2
for h in 1 2; do ip -n lockstep-h$h link set lsveth$h up; ip -n lockstep-h$h link set lo up; done
HOSTS=$(mktemp)
printf '10.77.0.1 h1\n10.77.0.2 h2\n' > "$HOSTS.hosts"
printf 'h1 slots=1\nh2 slots=1\n' > "$HOSTS"
# h1's and h2's names resolve through the system's files: an /etc/hosts bind-mounted for the run.
ip netns exec lockstep-h1 unshare --uts --mount sh -c "
  hostname h1
  cat /etc/hosts $HOSTS.hosts > $HOSTS.all && mount --bind $HOSTS.all /etc/hosts
  exec mpirun --allow-run-as-root --bind-to none --hostfile $HOSTS -np 2 \
    --mca plm_rsh_agent '$SELF --agent' --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 \
    --mca oob_tcp_if_include 10.77.0.0/24 --mca orte_keep_fqdn_hostnames 1 \
    '$BIN' train --workers 2 --save '$OUTPUT' $*"
