#!/usr/bin/env bash
# Single-machine test cluster for flow: munge, MariaDB, slurmdbd, slurmctld, two slurmd (two
# nodes on this host) and a dedicated sshd on 127.0.0.1:2222 for the test user `flowuser`. Run as root.
# See docs/TEST-CLUSTER.md.
#
# Verbs: start | stop | status | env | calls [--reset]
#        restart-sshd | stop-slurmdbd | start-slurmdbd | (re)start-slurmctld | stop-slurmctld |
#        rotate-hostkey | restore-hostkey |
#        start-gateway | stop-gateway   (a second sshd on 127.0.0.1:2223: the jump host)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Daemons started here must not inherit the caller's descriptors: under
# `flock /tmp/LOCK scripts/test-cluster.sh ...` a restarted slurmdbd would hold the lock
# for as long as it lives.
for _fd in /proc/$$/fd/*; do
  _fd=${_fd##*/}
  if ((_fd > 2 && _fd < 255)); then eval "exec ${_fd}>&-" 2>/dev/null || true; fi
done
unset _fd

VAR=/var/lib/flow-test-cluster        # persistent: keys, sshd_config, known_hosts, wrappers
RUN=/run/flow-test-cluster            # runtime: pid files of what WE started, logs
WRAP=$VAR/bin
CALLS=$VAR/calls.log
PORT=2222
GWPORT=2223                           # the gateway (jump host) sshd of start-gateway
GW=$VAR/gateway
TUSER=flowuser
CLUSTER=flowtest
HOST=$(hostname -s)
# The second node: another slurmd on this host (Debian's Slurm is built with
# MULTIPLE_SLURMD), on its own port (6828: 6819 is slurmdbd's). Weight=2 keeps one-node
# jobs on the first node, as on the one-node cluster this was; two-node jobs get both.
NODE2=$HOST-n2
PKGS=(slurm-wlm slurmdbd munge mariadb-server openssh-server)
DBPASS=flowtest

log() { echo "test-cluster: $*" >&2; }
# die MSG [LOGFILE]: error with the tail of the relevant log.
die() {
  log "ERROR: $1"
  if [[ -n ${2:-} && -f ${2:-} ]]; then
    echo "--- last lines of $2:" >&2
    tail -n 30 "$2" >&2
  fi
  exit 1
}
# waitfor SECONDS CMD...: poll CMD every 0.2 s until it succeeds or time runs out.
waitfor() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}
pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# The cluster does not share the engine's file system. slurmd (and so every job and step it
# starts) and the test sshd (and so every login, sbatch/sacct call and SFTP session) run in a
# mount namespace of their own, where
#   - /tmp is a fresh tmpfs: node-local scratch, empty at start. The engine's trees of the
#     tests (mkdtemp under /tmp: working directory, $FLOW_HOME, run directories) do not exist
#     there;
#   - this checkout ($CHECKOUT) is an empty read-only directory: no DAG script can be run
#     from the engine's copy, only what flow staged.
# Everything else (/home/flowuser with the site workdir, /var/tmp, /etc, /run) is shared, as
# on a login node. Tests of `transport: local` sites (flow on the login node, submitting with
# a local sbatch) keep their workdir under /var/tmp/flow-test-shared, which both sides see.
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=/var/tmp/flow-test-shared
# Whether this machine lets us make such a namespace (a container without CAP_SYS_ADMIN does
# not): checked once per invocation and written to $RUN/isolation ("mount-namespace" or
# "none: REASON") for the tests that prove the isolation, which skip, saying why, on "none".
can_isolate() {
  if [[ -z ${CAN_ISOLATE:-} ]]; then
    local why
    if why=$(unshare --mount --propagation private -- /bin/sh -c \
      'mount -t tmpfs flow-probe /tmp && mount -t tmpfs -o ro flow-probe "$0"' "$CHECKOUT" 2>&1); then
      CAN_ISOLATE=yes
      echo mount-namespace >"$RUN/isolation"
    else
      CAN_ISOLATE=no
      log "WARNING: cannot make a mount namespace here (${why:-unshare failed}): the cluster shares this machine's files"
      echo "none: ${why:-unshare failed}" >"$RUN/isolation"
    fi
  fi
  [[ $CAN_ISOLATE == yes ]]
}
isolated() {
  if ! can_isolate; then
    "$@"
    return
  fi
  unshare --mount --propagation private -- /bin/sh -c '
    mount -t tmpfs -o mode=1777,size=2g flow-node-tmp /tmp &&
    mount -t tmpfs -o ro,mode=0555,size=4k flow-hidden-checkout "$0" &&
    exec "$@"' "$CHECKOUT" "$@"
}
# shares_our_files NAME: a daemon we started that sees this shell's /tmp or this checkout
# (started by an older version of this script, or from another mount namespace): `start`
# restarts it isolated.
shares_our_files() {
  [[ -s $RUN/$1.pid ]] && can_isolate || return 1
  local probe seen=1
  probe=$(mktemp /tmp/flow-cluster-probe.XXXXXX)
  local root=/proc/$(<"$RUN/$1.pid")/root
  [[ -e $root$probe || -e $root$CHECKOUT/scripts/test-cluster.sh ]] && seen=0
  rm -f "$probe"
  return $seen
}
# ours NAME: true if the daemon we recorded in $RUN/NAME.pid is alive.
ours() {
  local p
  [[ -s $RUN/$1.pid ]] || return 1
  p=$(<"$RUN/$1.pid")
  pid_alive "$p"
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
pidfile_alive() { [[ -s $1 ]] && pid_alive "$(<"$1")"; }

# ---------------------------------------------------------------- install ----
install_pkgs() {
  local missing=() p created_policy=0
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # keep the packages' init scripts from starting daemons: we start them ourselves
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local rc=0
  { apt-get update -q && apt-get install -y -q --no-install-recommends "${PKGS[@]}"; } </dev/null || rc=$?
  ((created_policy)) && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get install ${missing[*]} failed (rc=$rc)"
}

# -------------------------------------------------------------- configure ----
# write_if_changed FILE: stdin -> FILE, only touching FILE when the content differs.
write_if_changed() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$1"
  return 0
}

slurm_conf() {
  cat <<EOF
# generated by flow scripts/test-cluster.sh -- do not edit
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=slurm
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd-%n.pid
SlurmctldLogFile=$RUN/slurmctld.log
SlurmdLogFile=$RUN/slurmd-%n.log
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd/%n
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
# Limits are enforced so that a test can set MaxSubmitJobs and see sbatch refuse (flow
# defers such a submission, docs/SLURM.md); root and the test user have associations.
AccountingStorageEnforce=limits
# A job no partition can take (more nodes than it has, a longer time limit) is refused at
# submission, as production sites configure it, rather than left pending for ever.
EnforcePartLimits=ALL
# What a job used (sacct TotalCPU, MaxRSS of its steps) needs a gather plugin; flow records
# it per try (docs/SLURM.md). Sampled every second, so short test jobs have a MaxRSS.
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobCompType=jobcomp/none
KillWait=2
OverTimeLimit=0
InactiveLimit=0
ReturnToService=2
MpiDefault=none
SlurmdParameters=config_overrides
DefMemPerCPU=100
# Four pretend GPUs (gres.conf): jobs asking for GPUs (--gpus-per-node, --gres=gpu:N) are
# scheduled as on a GPU cluster and get CUDA_VISIBLE_DEVICES, but no device.
GresTypes=gpu
AccountingStorageTRES=gres/gpu
NodeName=$HOST NodeHostname=$HOST NodeAddr=127.0.0.1 Port=6818 CPUs=32 RealMemory=16000 Gres=gpu:4 State=UNKNOWN
NodeName=$NODE2 NodeHostname=$HOST NodeAddr=127.0.0.1 Port=6828 CPUs=32 RealMemory=16000 Gres=gpu:4 Weight=2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

gres_conf() {
  cat <<EOF
# generated by flow scripts/test-cluster.sh -- do not edit
NodeName=$HOST Name=gpu File=$RUN/gpu/nvidia[0-3]
NodeName=$NODE2 Name=gpu File=$RUN/gpu2/nvidia[0-3]
EOF
}

slurmdbd_conf() {
  cat <<EOF
# generated by flow scripts/test-cluster.sh -- do not edit
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/run/slurm/slurmdbd.pid
LogFile=$RUN/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DBPASS
StorageLoc=slurm_acct_db
EOF
}

sshd_conf() {
  cat <<EOF
# generated by flow scripts/test-cluster.sh -- test sshd for user $TUSER only
Port $PORT
ListenAddress 127.0.0.1
HostKey $VAR/ssh_host_ed25519_key
PidFile $RUN/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers $TUSER
StrictModes yes
# counting wrappers first on PATH (SetEnv is applied after sshd's default PATH)
SetEnv PATH=$WRAP:/usr/local/bin:/usr/bin:/bin
MaxStartups 100:30:200
MaxSessions 100
LogLevel INFO
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# The gateway: its own host key and config; it lets flowuser log in (same key) but only
# forwards TCP to the test sshd (PermitOpen), and runs nothing (ForceCommand). LogLevel
# DEBUG1 so that its log shows each direct-tcpip forward ("target 127.0.0.1 port 2222").
gateway_conf() {
  cat <<EOF
# generated by flow scripts/test-cluster.sh -- gateway (jump host) sshd for $TUSER only
Port $GWPORT
ListenAddress 127.0.0.1
HostKey $GW/ssh_host_ed25519_key
PidFile $RUN/sshd-gateway.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers $TUSER
StrictModes yes
AllowTcpForwarding local
PermitOpen 127.0.0.1:$PORT
PermitTTY no
ForceCommand echo "this gateway only forwards"; exit 1
MaxStartups 100:30:200
LogLevel DEBUG1
EOF
}

write_known_hosts() {
  # known_hosts always names the ORIGINAL host key (rotate-hostkey keeps it as .orig)
  local pub=$VAR/ssh_host_ed25519_key.pub
  [[ -f $VAR/ssh_host_ed25519_key.orig.pub ]] && pub=$VAR/ssh_host_ed25519_key.orig.pub
  echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$pub")" | write_if_changed "$VAR/known_hosts" || true
  chmod 644 "$VAR/known_hosts"
}

configure() {
  mkdir -p "$SHARED" && chmod 1777 "$SHARED"
  mkdir -p "$VAR" "$RUN" "$WRAP" /run/slurm /var/spool/slurmctld "/var/spool/slurmd/$HOST" "/var/spool/slurmd/$NODE2" /run/sshd /run/munge \
    /run/mysqld /var/log/munge /var/lib/munge
  chmod 755 "$VAR" "$WRAP" "$RUN"
  chmod 755 /run/sshd
  chown slurm:slurm /run/slurm /var/spool/slurmctld
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chown mysql:mysql /run/mysqld
  local f
  for f in slurmctld.log slurmdbd.log; do touch "$RUN/$f"; chown slurm:slurm "$RUN/$f"; done
  touch "$RUN/mysqld.log"; chown mysql:mysql "$RUN/mysqld.log"
  touch "$RUN/munged.log"; chown munge:munge "$RUN/munged.log"; chmod 640 "$RUN/munged.log"

  # munge key
  if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key --force
    else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 700 /etc/munge
  chmod 400 /etc/munge/munge.key

  mkdir -p /etc/slurm
  if slurm_conf | write_if_changed /etc/slurm/slurm.conf; then SLURM_CONF_CHANGED=1; fi
  chmod 644 /etc/slurm/slurm.conf
  # Slurm 22.05 ignores a GPU without File= (the node would be invalid): stand-ins for
  # /dev/nvidia0-3 that are /dev/null's device (or empty files where mknod is not allowed;
  # slurmd then logs that they are no devices, and uses them all the same). Slurm takes
  # each GPU's index from the number in its name.
  local dir
  for dir in "$RUN/gpu" "$RUN/gpu2"; do
    mkdir -p "$dir"
    for i in 0 1 2 3; do
      [[ -e $dir/nvidia$i ]] || mknod -m 666 "$dir/nvidia$i" c 1 3 2>/dev/null ||
        touch "$dir/nvidia$i"
    done
  done
  if gres_conf | write_if_changed /etc/slurm/gres.conf; then SLURM_CONF_CHANGED=1; fi
  chmod 644 /etc/slurm/gres.conf
  slurmdbd_conf | write_if_changed /etc/slurm/slurmdbd.conf || true
  chown slurm:slurm /etc/slurm/slurmdbd.conf
  chmod 600 /etc/slurm/slurmdbd.conf

  # test user (a fresh account is locked with '!' and sshd refuses it even for keys)
  id "$TUSER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$TUSER"
  usermod -p '*' "$TUSER"
  local home
  home=$(getent passwd "$TUSER" | cut -d: -f6)
  install -d -o "$TUSER" -g "$TUSER" -m 755 "$home"
  install -d -o "$TUSER" -g "$TUSER" -m 700 "$home/.ssh"
  install -d -o "$TUSER" -g "$TUSER" -m 755 "$home/flow"
  # Login shells (bash -l) reset PATH in /etc/profile; re-prepend the wrappers in ~/.profile.
  local mark='# flow-test-cluster: counting wrappers first'
  if [[ -f $home/.profile ]] && ! grep -qF "$mark" "$home/.profile"; then
    printf '\n%s\ncase ":$PATH:" in *":%s:"*) ;; *) PATH="%s:$PATH" ;; esac\n' "$mark" "$WRAP" "$WRAP" >>"$home/.profile"
  fi

  # client key pair for the tests (private key readable by root only)
  [[ -s $VAR/id_ed25519 ]] || { rm -f "$VAR/id_ed25519" "$VAR/id_ed25519.pub"; ssh-keygen -q -t ed25519 -N '' -C flow-test-client -f "$VAR/id_ed25519"; }
  chmod 600 "$VAR/id_ed25519"
  chmod 644 "$VAR/id_ed25519.pub"
  install -o "$TUSER" -g "$TUSER" -m 600 "$VAR/id_ed25519.pub" "$home/.ssh/authorized_keys"

  # host key of the test sshd
  [[ -s $VAR/ssh_host_ed25519_key ]] || { rm -f "$VAR/ssh_host_ed25519_key" "$VAR/ssh_host_ed25519_key.pub"; ssh-keygen -q -t ed25519 -N '' -C flow-test-host -f "$VAR/ssh_host_ed25519_key"; }
  chmod 600 "$VAR/ssh_host_ed25519_key"
  write_known_hosts
  sshd_conf | write_if_changed "$VAR/sshd_config" || true
  chmod 644 "$VAR/sshd_config"

  # call-counting wrappers
  [[ -f $CALLS ]] || : >"$CALLS"
  chmod 666 "$CALLS"
  local c
  for c in sacct squeue sbatch scontrol scancel; do
    cat <<EOF | write_if_changed "$WRAP/$c" || true
#!/bin/sh
# flow test-cluster call counter: log, then run the real $c
echo "\$(date +%s) $c \$*" >>$CALLS 2>/dev/null
exec /usr/bin/$c "\$@"
EOF
    chmod 755 "$WRAP/$c"
  done
}

# ---------------------------------------------------------------- daemons ----
SLURM_CONF_CHANGED=0

munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
start_munge() {
  if ours munged || munge_ok; then return 0; fi
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --log-file="$RUN/munged.log" --pid-file=/run/munge/munged.pid \
    || die "munged failed to start" "$RUN/munged.log"
  waitfor 10 munge_ok || die "munge does not answer" "$RUN/munged.log"
  cp /run/munge/munged.pid "$RUN/munged.pid"
}

mysql_ok() { mysql -u root -e 'select 1' </dev/null; }
start_mysql() {
  if ! ours mysqld && ! mysql_ok >/dev/null 2>&1; then
    if [[ ! -d /var/lib/mysql/mysql ]]; then
      mysql_install_db --user=mysql --datadir=/var/lib/mysql >"$RUN/mysql_install_db.log" 2>&1 \
        || die "mysql_install_db failed" "$RUN/mysql_install_db.log"
    fi
    rm -f /run/mysqld/mysqld.pid
    (cd / && exec setsid /usr/bin/mysqld_safe --pid-file=/run/mysqld/mysqld.pid --log-error="$RUN/mysqld.log" \
      --socket=/run/mysqld/mysqld.sock >/dev/null 2>&1 </dev/null) &
    echo $! >"$RUN/mysqld_safe.pid"
    waitfor 60 test -S /run/mysqld/mysqld.sock || die "MariaDB socket /run/mysqld/mysqld.sock did not appear" "$RUN/mysqld.log"
    waitfor 30 mysql_ok || die "MariaDB does not answer" "$RUN/mysqld.log"
    waitfor 10 test -s /run/mysqld/mysqld.pid
    cp /run/mysqld/mysqld.pid "$RUN/mysqld.pid"
  fi
  mysql -u root </dev/null -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
    GRANT ALL PRIVILEGES ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;" \
    || die "creating slurm_acct_db / slurm@localhost failed" "$RUN/mysqld.log"
}

dbd_ok() { sacctmgr -n -P list cluster format=cluster </dev/null; }
start_slurmdbd() {
  if ! ours slurmdbd && ! pidfile_alive /run/slurm/slurmdbd.pid; then
    rm -f /run/slurm/slurmdbd.pid
    /usr/sbin/slurmdbd </dev/null || die "slurmdbd failed to start" "$RUN/slurmdbd.log"
    waitfor 10 test -s /run/slurm/slurmdbd.pid || die "slurmdbd wrote no pid file" "$RUN/slurmdbd.log"
    cp /run/slurm/slurmdbd.pid "$RUN/slurmdbd.pid"
  fi
  waitfor 30 dbd_ok || die "slurmdbd does not answer sacctmgr" "$RUN/slurmdbd.log"
}

# slurmctld recovers its jobs from StateSaveLocation when it starts again (no -c).
start_slurmctld() {
  if ! ours slurmctld && ! pidfile_alive /run/slurm/slurmctld.pid; then
    rm -f /run/slurm/slurmctld.pid
    /usr/sbin/slurmctld </dev/null || die "slurmctld failed to start" "$RUN/slurmctld.log"
    waitfor 10 test -s /run/slurm/slurmctld.pid || die "slurmctld wrote no pid file" "$RUN/slurmctld.log"
    cp /run/slurm/slurmctld.pid "$RUN/slurmctld.pid"
  fi
  waitfor 30 scontrol ping || die "slurmctld does not answer scontrol ping" "$RUN/slurmctld.log"
}

# Both nodes up: one state line per node, each of them a usable one.
node_ready() {
  local states
  states=$(sinfo -h -N -o %T </dev/null 2>/dev/null) || return 1
  [[ $(grep -c . <<<"$states") -ge 2 ]] && ! grep -vEqx 'idle|mixed|allocated|completing' <<<"$states"
}

# start_slurmd NAME NODE: the slurmd of node NODE, recorded as NAME ($RUN/NAME.pid).
start_slurmd() {
  local name=$1 node=$2 pidfile=/run/slurm/slurmd-$2.pid
  if ours "$name" && shares_our_files "$name"; then
    log "$name sees this machine's files: restarting it in a mount namespace of its own"
    stop_daemon "$name"
  fi
  if ! ours "$name" && ! pidfile_alive "$pidfile"; then
    rm -f "$pidfile"
    isolated /usr/sbin/slurmd -N "$node" </dev/null || die "slurmd of $node failed to start" "$RUN/slurmd-$node.log"
    waitfor 10 test -s "$pidfile" || die "slurmd of $node wrote no pid file" "$RUN/slurmd-$node.log"
    cp "$pidfile" "$RUN/$name.pid"
  fi
}
start_slurm() {
  if ! dbd_ok 2>/dev/null | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" </dev/null >/dev/null || die "sacctmgr add cluster $CLUSTER failed" "$RUN/slurmdbd.log"
  fi
  # The test user may charge account root (snakemake --slurm checks that the account exists
  # for the user before it submits anything).
  if ! sacctmgr -n -P list assoc user="$TUSER" account=root format=user </dev/null 2>/dev/null | grep -qx "$TUSER"; then
    sacctmgr -i add user "$TUSER" account=root </dev/null >/dev/null || die "sacctmgr add user $TUSER failed" "$RUN/slurmdbd.log"
  fi
  # No submit limit unless a test sets one (and one that died before resetting it is undone).
  sacctmgr -i modify user "$TUSER" set MaxSubmitJobs=-1 </dev/null >/dev/null 2>&1 || true
  if ((SLURM_CONF_CHANGED)); then
    # node definitions are only read at slurmctld start: restart what we run
    ours slurmd && stop_daemon slurmd
    ours slurmd2 && stop_daemon slurmd2
    ours slurmctld && stop_daemon slurmctld
  fi
  start_slurmctld
  start_slurmd slurmd "$HOST"
  start_slurmd slurmd2 "$NODE2"
  if ! waitfor 30 node_ready; then
    scontrol update nodename="$HOST,$NODE2" state=resume </dev/null >/dev/null 2>&1 || true
    waitfor 15 node_ready || die "nodes $HOST, $NODE2 not idle (sinfo: $(sinfo -h -N -o '%N %T %E' 2>&1 | head -3))" "$RUN/slurmctld.log"
  fi
}

start_sshd() {
  if ours sshd && shares_our_files sshd; then
    log "sshd sees this machine's files: restarting it in a mount namespace of its own"
    stop_daemon sshd
    pkill -f "^sshd: $TUSER" || true
    waitfor 10 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null"
  fi
  if ours sshd && port_open; then return 0; fi
  /usr/sbin/sshd -t -f "$VAR/sshd_config" 2>"$RUN/sshd-check.log" || die "sshd config invalid" "$RUN/sshd-check.log"
  isolated /usr/sbin/sshd -f "$VAR/sshd_config" -E "$RUN/sshd.log" </dev/null || die "sshd failed to start" "$RUN/sshd.log"
  waitfor 10 port_open || die "sshd does not accept on 127.0.0.1:$PORT" "$RUN/sshd.log"
}

# stop_daemon NAME: stop the process recorded in $RUN/NAME.pid (only what we started).
stop_daemon() {
  local p i
  if [[ -s $RUN/$1.pid ]]; then
    p=$(<"$RUN/$1.pid")
    if pid_alive "$p"; then
      kill "$p" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do pid_alive "$p" || break; sleep 0.1; done
      pid_alive "$p" && { log "$1 ($p) ignored SIGTERM, killing"; kill -9 "$p" 2>/dev/null || true; }
    fi
  fi
  rm -f "$RUN/$1.pid"
}

stop_mysql() {
  if ours mysqld; then
    local p
    p=$(<"$RUN/mysqld.pid")
    mysqladmin -u root shutdown </dev/null >/dev/null 2>&1 || kill "$p" 2>/dev/null || true
    waitfor 30 sh -c "! kill -0 $p" || kill -9 "$p" 2>/dev/null || true
  fi
  rm -f "$RUN/mysqld.pid"
  # mysqld_safe exits once mysqld stopped cleanly; make sure
  if ours mysqld_safe; then waitfor 5 sh -c "! kill -0 $(<"$RUN/mysqld_safe.pid")" || stop_daemon mysqld_safe; fi
  rm -f "$RUN/mysqld_safe.pid"
}

gateway_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$GWPORT") 2>/dev/null; }

# start-gateway: needs `start` first (the test user and its authorized_keys).
start_gateway() {
  [[ $(id -u) == 0 ]] || die "must run as root"
  id "$TUSER" >/dev/null 2>&1 || die "no user $TUSER: run '$0 start' first"
  mkdir -p "$GW" "$RUN" /run/sshd
  chmod 755 "$GW"
  [[ -s $GW/ssh_host_ed25519_key ]] || { rm -f "$GW/ssh_host_ed25519_key" "$GW/ssh_host_ed25519_key.pub"; ssh-keygen -q -t ed25519 -N '' -C flow-test-gateway -f "$GW/ssh_host_ed25519_key"; }
  chmod 600 "$GW/ssh_host_ed25519_key"
  gateway_conf | write_if_changed "$GW/sshd_config" || true
  chmod 644 "$GW/sshd_config"
  # known_hosts with both hops: the gateway and the test sshd behind it
  write_known_hosts
  { cat "$VAR/known_hosts"; echo "[127.0.0.1]:$GWPORT $(cut -d' ' -f1,2 "$GW/ssh_host_ed25519_key.pub")"; } |
    write_if_changed "$GW/known_hosts" || true
  chmod 644 "$GW/known_hosts"
  if ours sshd-gateway && gateway_port_open; then return 0; fi
  /usr/sbin/sshd -t -f "$GW/sshd_config" 2>"$RUN/sshd-gateway-check.log" || die "gateway sshd config invalid" "$RUN/sshd-gateway-check.log"
  /usr/sbin/sshd -f "$GW/sshd_config" -E "$RUN/sshd-gateway.log" </dev/null || die "gateway sshd failed to start" "$RUN/sshd-gateway.log"
  waitfor 10 gateway_port_open || die "gateway sshd does not accept on 127.0.0.1:$GWPORT" "$RUN/sshd-gateway.log"
  log "gateway (jump host) sshd up on 127.0.0.1:$GWPORT"
}

# stop-gateway: the listener and every session through it (like a gateway going down).
stop_gateway() {
  if ours sshd-gateway; then pkill -P "$(<"$RUN/sshd-gateway.pid")" 2>/dev/null || true; fi
  stop_daemon sshd-gateway
  log "gateway stopped"
}

# ------------------------------------------------------------------ verbs ----
cmd_start() {
  local t0=$SECONDS
  [[ $(id -u) == 0 ]] || die "must run as root"
  install_pkgs
  configure
  start_munge
  start_mysql
  start_slurmdbd
  start_slurm
  start_sshd
  log "up in $((SECONDS - t0)) s (cluster $CLUSTER, nodes $HOST $NODE2, ssh $TUSER@127.0.0.1:$PORT)"
}

cmd_stop() {
  stop_daemon sshd-gateway
  stop_daemon sshd
  stop_daemon slurmd
  stop_daemon slurmd2
  stop_daemon slurmctld
  stop_daemon slurmdbd
  stop_mysql
  stop_daemon munged
  log "stopped"
}

cmd_status() {
  local rc=0 d
  for d in munged mysqld slurmdbd slurmctld slurmd slurmd2 sshd; do
    if ours "$d"; then echo "$d: running (pid $(<"$RUN/$d.pid"))"
    else echo "$d: not running (or not started by this script)"; rc=1; fi
  done
  echo "nodes: $(sinfo -h -N -o '%N %T' </dev/null 2>/dev/null | paste -sd, || echo unreachable)"
  if port_open; then echo "sshd port $PORT: open"; else echo "sshd port $PORT: closed"; rc=1; fi
  # the gateway is optional (start-gateway): reported, never a failure
  if gateway_port_open; then echo "gateway sshd port $GWPORT: open"; else echo "gateway sshd port $GWPORT: closed (start-gateway)"; fi
  return $rc
}

cmd_env() {
  cat <<EOF
FLOW_TEST_SSH_HOST=127.0.0.1
FLOW_TEST_SSH_PORT=$PORT
FLOW_TEST_SSH_USER=$TUSER
FLOW_TEST_SSH_KEY=$VAR/id_ed25519
FLOW_TEST_KNOWN_HOSTS=$VAR/known_hosts
FLOW_TEST_SLURM_PARTITION=debug
FLOW_TEST_WORKDIR=/home/$TUSER/flow
FLOW_TEST_SHARED_DIR=$SHARED
FLOW_TEST_WRAPPER_BIN=$WRAP
FLOW_TEST_CALLS_LOG=$CALLS
FLOW_TEST_GATEWAY_PORT=$GWPORT
FLOW_TEST_GATEWAY_KNOWN_HOSTS=$GW/known_hosts
FLOW_TEST_GATEWAY_HOSTKEY=$GW/ssh_host_ed25519_key.pub
FLOW_TEST_GATEWAY_LOG=$RUN/sshd-gateway.log
EOF
}

cmd_calls() {
  [[ -f $CALLS ]] && awk '{n[$2]++} END {for (c in n) print c, n[c]}' "$CALLS" | sort
  if [[ ${1:-} == --reset ]]; then : >"$CALLS"; chmod 666 "$CALLS"; fi
  return 0
}

cmd_rotate_hostkey() {
  local k=$VAR/ssh_host_ed25519_key
  if [[ ! -f $k.orig ]]; then
    mv -f "$k" "$k.orig"
    mv -f "$k.pub" "$k.orig.pub"
  fi
  rm -f "$k" "$k.pub"
  ssh-keygen -q -t ed25519 -N '' -C flow-test-host-rotated -f "$k"
  stop_daemon sshd
  start_sshd
  log "host key rotated (known_hosts still has the original key)"
}

cmd_restore_hostkey() {
  local k=$VAR/ssh_host_ed25519_key
  if [[ -f $k.orig ]]; then
    mv -f "$k.orig" "$k"
    mv -f "$k.orig.pub" "$k.pub"
  fi
  write_known_hosts
  stop_daemon sshd
  start_sshd
  log "original host key restored"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  calls) cmd_calls "${2:-}" ;;
  # Like a crash or reboot of the login node: the listener AND every open session of the
  # test user go away, so clients must really reconnect.
  restart-sshd) stop_daemon sshd; pkill -f "^sshd: $TUSER" || true; start_sshd ;;
  stop-slurmdbd) stop_daemon slurmdbd; pidfile_alive /run/slurm/slurmdbd.pid && log "warning: a slurmdbd not started by us is still running" || true ;;
  start-slurmdbd) start_slurmdbd ;;
  # Like a controller failover or restart: running jobs go on on slurmd meanwhile.
  restart-slurmctld) stop_daemon slurmctld; start_slurmctld ;;
  stop-slurmctld) stop_daemon slurmctld ;;
  start-slurmctld) start_slurmctld ;;
  rotate-hostkey) cmd_rotate_hostkey ;;
  restore-hostkey) cmd_restore_hostkey ;;
  start-gateway) start_gateway ;;
  stop-gateway) stop_gateway ;;
  *)
    echo "usage: $0 start|stop|status|env|calls [--reset]|restart-sshd|stop-slurmdbd|start-slurmdbd|restart-slurmctld|stop-slurmctld|start-slurmctld|rotate-hostkey|restore-hostkey|start-gateway|stop-gateway" >&2
    exit 2
    ;;
esac
