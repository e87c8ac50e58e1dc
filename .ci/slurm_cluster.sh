#!/usr/bin/env bash
# Start (or stop) a single-node Slurm cluster on this machine, localhost only, in a scratch dir.
#
#   .ci/slurm_cluster.sh start DIR   # installs slurm-wlm + munge if missing, writes DIR/slurm.conf,
#                                    # starts munged, slurmctld and slurmd; prints SLURM_CONF
#   .ci/slurm_cluster.sh stop DIR    # stops the three daemons started from DIR
#
# No accounting database: the executor plugin polls job states with squeue, which keeps finished
# jobs for MinJobAge seconds (set high below, as the plugin requires for squeue).
# /etc/slurm/slurm.conf is linked to the generated file while the cluster runs: the plugin's
# job step drops SLURM_* variables (SLURM_CONF too) before its inner srun, which then reads the
# default path. An existing /etc/slurm/slurm.conf of a real installation is never replaced.
set -euo pipefail
action=${1:?start|stop}
dir=$(realpath -m "${2:?scratch directory}")

system_conf=/etc/slurm/slurm.conf

stop() {
  if [[ -L $system_conf && $(readlink "$system_conf") == "$dir/slurm.conf" ]]; then
    rm -f "$system_conf"
  fi
  for daemon in slurmd slurmctld munged; do
    if [[ -s $dir/$daemon.pid ]]; then
      kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
      rm -f "$dir/$daemon.pid"
    fi
  done
}

if [[ $action == stop ]]; then stop; exit 0; fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  sudo=$([[ $(id -u) == 0 ]] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq slurm-wlm munge >/dev/null
fi

mkdir -p "$dir"/{state,spool,munge}
chmod 700 "$dir/munge"
host=$(hostname -s)
user=$(id -un)
# munge: own key, socket and pid in the scratch dir (never the system's munged)
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$dir/munge/munge.key"
munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" --force

node=$(slurmd -C | head -1)
cpus=$(sed -E 's/.* CPUs=([0-9]+).*/\1/' <<<"$node")
memory=$(sed -E 's/.* RealMemory=([0-9]+).*/\1/' <<<"$node")
cat >"$dir/slurm.conf" <<CONF
ClusterName=tlsurvey
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=900
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
if [[ -e $system_conf || -L $system_conf ]]; then
  echo "$system_conf exists: not starting a test cluster over an installed one" >&2
  stop
  exit 1
fi
mkdir -p "$(dirname "$system_conf")"
ln -s "$dir/slurm.conf" "$system_conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1)
  [[ $state == idle ]] && break
  sleep 1
done
if [[ $state != idle ]]; then
  echo "slurm node not idle (state '$state'); logs in $dir" >&2
  stop
  exit 1
fi
echo "SLURM_CONF=$SLURM_CONF"
