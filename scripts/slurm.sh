#!/usr/bin/env bash
# A single-node SLURM on this machine, for the tests (Debian, root, no systemd).
#
#   scripts/slurm.sh start [DIR]    install if missing, start munged + slurmctld + slurmd, wait until
#                                   the node is idle; prints SLURM_CONF=<DIR>/slurm.conf (last line)
#   scripts/slurm.sh stop [DIR]     cancel every job, stop the three daemons (by the PIDs in DIR)
#   scripts/slurm.sh status [DIR]   exit 0 if the node answers and is usable, else 1
#
# DIR defaults to $SEAMLESS_SLURM_DIR or /tmp/seamless-slurm. Nothing is written under /etc/slurm:
# the daemons and the clients read DIR/slurm.conf through SLURM_CONF. munged runs as the 'munge'
# user on its own socket in DIR. Every daemon listens on 127.0.0.1; every wait is bounded.
# Idempotent: 'start' on a running instance only checks it; 'stop' on a stopped one does nothing.
# The daemons are stopped by PID, never by name.
set -euo pipefail

action="${1:-start}"
dir="${2:-${SEAMLESS_SLURM_DIR:-/tmp/seamless-slurm}}"
conf="$dir/slurm.conf"
node="$(hostname -s)"
export SLURM_CONF="$conf"

say() { echo "slurm.sh: $*" >&2; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND... : poll every 0.2 s, fail after SECONDS
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            say "timed out after ${seconds}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

pid_of() {  # pid_of FILE: the live PID recorded in FILE, or nothing
    local pid
    [[ -f "$1" ]] || return 0
    pid="$(tr -dc 0-9 <"$1")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

stop_pid_file() {  # stop_pid_file FILE NAME: SIGTERM, then SIGKILL after 10 s
    local pid
    pid="$(pid_of "$1")"
    [[ -n "$pid" ]] || { rm -f "$1"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        say "$2 (pid $pid) ignored SIGTERM; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

no_jobs() { [[ -z "$(squeue -h -o %i 2>/dev/null)" ]]; }

node_usable() {
    local state
    state="$(sinfo -h -N -n "$node" -o %T 2>/dev/null | head -n1)"
    [[ "$state" == idle* || "$state" == mixed* || "$state" == allocated* ]]
}

install_slurm() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null; then
        return 0
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        say "SLURM is not installed and cannot be installed here (needs root and apt-get)"
        return 1
    fi
    say "installing slurmctld slurmd slurm-client munge"
    export DEBIAN_FRONTEND=noninteractive
    local pkgs=(slurmctld slurmd slurm-client munge)
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; }
}

write_conf() {
    mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
    chown munge:munge "$dir/munge"
    chmod 0755 "$dir" "$dir/munge"
    cat >"$conf.tmp" <<EOF
# Written by seamless-config's scripts/slurm.sh: a single-node SLURM for tests.
ClusterName=seamless-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
SchedulerParameters=sched_min_interval=100000
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$conf.tmp" "$conf"
}

start() {
    install_slurm
    if [[ -f "$conf" && -n "$(pid_of "$dir/slurmctld.pid")" && -n "$(pid_of "$dir/slurmd.pid")" ]] \
        && [[ -n "$(pid_of "$dir/munge/munged.pid")" ]] && node_usable; then
        say "already running ($conf)"
        echo "SLURM_CONF=$conf"
        return 0
    fi
    mkdir -p "$dir"
    # A half-started instance of ours: stop what is left, then start afresh.
    stop_daemons
    write_conf
    runuser -u munge -- /usr/sbin/munged --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --num-threads=2
    wait_for 10 "munged" test -S "$dir/munge/munge.socket"
    /usr/sbin/slurmctld -c -i
    wait_for 20 "slurmctld" scontrol ping
    /usr/sbin/slurmd -N "$node"
    if ! wait_for 30 "node $node to become idle" node_usable; then
        scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
        wait_for 10 "node $node to resume" node_usable || {
            sinfo -N -l >&2 || true
            tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
            return 1
        }
    fi
    say "single-node SLURM up: node $node (2 CPUs, 4000 MB), $conf"
    echo "SLURM_CONF=$conf"
}

stop_daemons() {
    if [[ -f "$conf" && -n "$(pid_of "$dir/slurmctld.pid")" ]]; then
        scancel --quiet --partition=debug >/dev/null 2>&1 || true  # every job of this test SLURM
        wait_for 20 "the jobs to end" no_jobs || true
    fi
    stop_pid_file "$dir/slurmd.pid" slurmd
    stop_pid_file "$dir/slurmctld.pid" slurmctld
    stop_pid_file "$dir/munge/munged.pid" munged
}

case "$action" in
    start) start ;;
    stop) stop_daemons; say "stopped ($dir)" ;;
    status) node_usable ;;
    *) echo "usage: $0 start|stop|status [DIR]" >&2; exit 2 ;;
esac
