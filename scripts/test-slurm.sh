#!/usr/bin/env bash
# A throwaway single-node Slurm cluster for the tests of the Slurm launcher,
# from Debian's `slurmctld`, `slurmd` and `munge` packages: a private munged
# (its own key and socket), a controller and one node daemon (this machine,
# all its CPUs, partition `debug`) on random ports, everything (config, state,
# spool, logs, pid files) in a temporary folder, so two test runs do not clash
# and nothing under /etc or /var is touched.
#
#   eval "$(scripts/test-slurm.sh start)"   exports SLURM_CONF (so sbatch, squeue, scontrol find the cluster)
#                                            and MOSAIC_TEST_SLURM_DIR (the cluster's folder)
#   scripts/test-slurm.sh stop DIR          stops its daemons and removes the folder
set -euo pipefail

for p in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/sbin/mungekey /usr/bin/sbatch /usr/bin/sinfo; do
  if [ ! -x "$p" ]; then
    echo "error: Slurm's programs are missing ($p): install Debian's slurmctld slurmd munge (scripts/install-deps.sh test)" >&2
    exit 1
  fi
done

# The pid in pid file $1, if that process still runs.
live_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid" || true
}

# $1 and all its descendants.
process_tree() {
  local child
  echo "$1"
  for child in $(pgrep -P "$1" 2>/dev/null || true); do process_tree "$child"; done
}

# A port nothing listens on yet (bash's /dev/tcp connects only to a listener).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

case "${1:-}" in
start)
  if [ "$(id -u)" -ne 0 ]; then
    # slurmd must switch to the job's user, and the daemons here run as SlurmUser=root.
    echo "error: the test Slurm cluster needs root (slurmd switches users to launch jobs)" >&2
    exit 1
  fi
  dir=$(mktemp -d /tmp/mosaic-slurm.XXXXXX)
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  # munged wants every folder above its socket searchable by all (clients of
  # any user connect to it) and writable by its own user only; the key itself
  # is readable by root only (mungekey writes it 0600).
  chmod 755 "$dir" "$dir/munge"
  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
    { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none; chmod 0400 "$dir/munge/munge.key"; }
  if ! munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    >"$dir/log/munged.out" 2>&1; then
    cat "$dir/log/munged.out" "$dir/log/munged.log" >&2 2>/dev/null || true
    echo "error: the test cluster's munged did not start (log above)" >&2
    rm -rf "$dir"
    exit 1
  fi

  # The node is this machine under its short name (slurmd finds itself by it),
  # reached at 127.0.0.1 whatever the name resolves to. CPUs only: each CPU
  # counts as one core, so CR_Core runs one 1-CPU array task per CPU at once.
  # linuxproc + task/none: no cgroups, which a container may not let us use.
  node=$(hostname -s)
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  cat >"$dir/slurm.conf" <<EOF
ClusterName=mosaic-test
MailProg=/bin/true
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  # Exported before the daemons start, so that `stop` can tell this cluster's
  # slurmstepd (they inherit slurmd's environment) from another run's.
  export SLURM_CONF="$dir/slurm.conf"

  failed() {
    for log in "$dir"/log/*; do
      [ -s "$log" ] && { echo "== $log" >&2; tail -n 40 "$log" >&2; }
    done
    echo "error: the test Slurm cluster did not start: $1 (logs above)" >&2
    bash "$0" stop "$dir" >/dev/null 2>&1 || true
    exit 1
  }
  # Both fork into the background once their config is read and write their pid files.
  slurmctld -f "$dir/slurm.conf" >"$dir/log/slurmctld.out" 2>&1 || failed "slurmctld exited"
  slurmd -f "$dir/slurm.conf" -N "$node" >"$dir/log/slurmd.out" 2>&1 || failed "slurmd exited"

  # The node goes from unknown to idle once slurmd has registered with the
  # controller (about a second); a daemon that died or a node the controller
  # found invalid (drained) will not get there.
  state=""
  for _ in $(seq 120); do
    state=$(timeout 5 sinfo -h -o %T -n "$node" 2>/dev/null || true)
    [ "$state" = idle ] && break
    case "$state" in inval* | drain*) failed "node $node is '$state'" ;; esac
    for daemon in slurmctld slurmd; do
      [ -n "$(live_pid "$dir/$daemon.pid")" ] || failed "$daemon exited"
    done
    sleep 0.5
  done
  [ "$state" = idle ] || failed "node $node is '${state:-unreachable}', not idle, after 60 s"
  echo "export SLURM_CONF='$dir/slurm.conf'"
  echo "export MOSAIC_TEST_SLURM_DIR='$dir'"
  ;;
stop)
  dir=${2:?usage: test-slurm.sh stop DIR}
  if [ -f "$dir/slurm.conf" ] && [ -n "$(live_pid "$dir/slurmctld.pid")" ]; then
    # Cancel what still runs first: slurmd leaves its jobs' slurmstepd behind when it stops.
    export SLURM_CONF="$dir/slurm.conf"
    jobs=$(timeout 5 squeue -h -o %A 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086 # one job id a word
      timeout 5 scancel $jobs >/dev/null 2>&1 || true
      for _ in $(seq 50); do
        [ -z "$(timeout 5 squeue -h -t RUNNING,COMPLETING -o %A 2>/dev/null || true)" ] && break
        sleep 0.1
      done
    fi
  fi
  # Jobs the controller could not cancel (it was gone): their slurmstepd, by
  # the SLURM_CONF in their environment, and all below them. (grep without -q:
  # reading all of its input, it gives tr no SIGPIPE for pipefail to see.)
  for pid in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -xF "SLURM_CONF=$dir/slurm.conf" >/dev/null; then
      # shellcheck disable=SC2046 # one pid a word
      kill -KILL $(process_tree "$pid") 2>/dev/null || true
    fi
  done
  # The three stop together (each takes 1-2 s to shut down); whatever is
  # still there after 5 s is killed.
  pids=$(for f in slurmd.pid slurmctld.pid munge/munged.pid; do live_pid "$dir/$f"; done)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086 # one pid a word
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 50); do
      alive=""
      for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive+=" $pid"; done
      [ -z "$alive" ] && break
      sleep 0.1
    done
    # shellcheck disable=SC2086
    [ -z "$alive" ] || kill -KILL $alive 2>/dev/null || true
  fi
  rm -rf "$dir" || true
  ;;
*)
  echo "usage: scripts/test-slurm.sh start | stop DIR" >&2
  exit 2
  ;;
esac
