#!/usr/bin/env bash
# A real Slurm cluster (munge, MariaDB + slurmdbd, slurmctld, slurmd n1..n3) and a real OpenSSH server on
# 127.0.0.1, all started by hand (no systemd here) with every file under one state directory.
#   bash scripts/test-cluster.sh up|down|status|env
# State dir: $SLURMRAY_TESTBED_DIR or /tmp/srtb (kept short: unix socket paths are limited to ~100 bytes).
# Several beds (different state dirs) can run at once: they share the users and their password, and each
# adds and removes only its own marked lines in their authorized_keys.
# Facts this is built on: shared/notes/test-cluster.md.
set -euo pipefail

D=${SLURMRAY_TESTBED_DIR:-/tmp/srtb}
PY=/usr/bin/python3            # the system Python, not whatever shim is first on root's PATH
USER1=srtest                   # key and password login
USER2=srtest2                  # key login; shares the bed's shared base dir with USER1
TCSH_USER=srtcsh               # key login; login shell tcsh
LIMITED_USER=srtms10           # key login; its sshd Match block sets MaxSessions (the bed's default is 50)
LIMITED_MAX_SESSIONS=10
USERS=("$USER1" "$USER2" "$TCSH_USER" "$LIMITED_USER")
# Shared by every bed on this machine (root only): the users' password and the lock for editing their files.
# One password per machine, so that bringing up a second bed never changes the one a running bed's tests use.
MACHINE=/var/lib/slurmray-testbed
DEFAULT_D=/tmp/srtb
CLUSTER=srtb
NODES=(n1 n2 n3)
# Start order; `down` stops in reverse.
DAEMONS=(munged mariadb slurmdbd slurmctld slurmd-n1 slurmd-n2 slurmd-n3 sshd)
PACKAGES=(slurmctld slurmd slurm-client munge openssh-server openssh-client slurmdbd mariadb-server
  python3 python3-venv python3-pip rsync procps tcsh fish)

die() {
  echo "test-cluster: $*" >&2
  exit 1
}
say() { echo "test-cluster: $*" >&2; }

# ---------------------------------------------------------------- processes

pidfile() { echo "$D/pids/$1.pid"; }

# The program name a daemon's process has (slurmd-n1 -> slurmd).
program() {
  case $1 in
    mariadb) echo mariadbd ;;
    *) echo "${1%%-*}" ;;
  esac
}

# Running = the recorded PID is that daemon's program (not a reused PID) and not a zombie (PID 1 here
# reaps orphans only every ~2 s, and a zombie still answers kill -0).
is_running() {
  local pid state
  pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$(program "$1")" ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z && $state != X ]]
}

show_logs() {
  local f
  for f in "$D/log/$1.log" "$D/log/$1.out"; do
    [[ -s $f ]] && { echo "---- tail of $f" >&2; tail -n 25 "$f" >&2; }
  done
  return 0
}

fail() { # daemon-name message
  show_logs "$1"
  die "$1: $2 (logs in $D/log; stop what started with: bash scripts/test-cluster.sh down)"
}

# Starts a daemon in foreground mode in its own session, detached, and records its PID.
# In a non-interactive shell a background job is not a process-group leader, so setsid execs in place
# and $! is the daemon itself. fd 9 (the lock) is closed so the daemon does not hold the lock forever.
start() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$D/log/$name.out" 2>&1 9>&- &
  echo $! >"$(pidfile "$name")"
}

stop() {
  local name=$1 pid i
  is_running "$name" || { rm -f "$(pidfile "$name")"; return 0; }
  pid=$(cat "$(pidfile "$name")")
  # sshd: its open sessions first (one child per connection), so no client's master outlives the bed.
  [[ $name != sshd ]] || pkill -TERM -P "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    is_running "$name" || break
    sleep 0.1
  done
  if is_running "$name"; then
    say "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pidfile "$name")"
}

# wait_for <seconds> <daemon> <what> <command...>: polls every 0.1 s; on timeout shows the daemon's log.
wait_for() {
  local limit=$1 name=$2 what=$3 i
  shift 3
  for ((i = 0; i < limit * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    is_running "$name" || fail "$name" "exited while waiting for $what"
    sleep 0.1
  done
  fail "$name" "timed out after ${limit}s waiting for $what"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- install

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! /usr/local/bin/uv --version >/dev/null 2>&1; then
    say "installing uv to /usr/local/bin/uv"
    local venv
    venv=$(mktemp -d)
    "$PY" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check uv
    install -m 0755 "$venv/bin/uv" /usr/local/bin/uv
    rm -rf "$venv"
  fi
}

# Marks the authorized_keys lines this bed adds, so that `down` removes exactly those.
key_marker() { echo "slurmray-testbed:$D"; }

# Prints authorized_keys ($1) without this bed's lines, nor the unmarked line an older script added for this
# bed's key ($2, the public key file); other beds' lines are kept.
other_keys() {
  awk -v marker="$(key_marker)" -v legacy="$(cat "$2" 2>/dev/null)" '$NF != marker && $0 != legacy' "$1" 2>/dev/null || true
}

# Replaces a user's authorized_keys with stdin, atomically, owned by the user and 0600.
replace_keys() {
  local user=$1 auth tmp
  auth=$(getent passwd "$user" | cut -d: -f6)/.ssh/authorized_keys
  tmp=$(mktemp "$auth.XXXXXX")
  cat >"$tmp"
  chown "$user:$user" "$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$auth"
}

# Users get an empty home (no rc files: every remote command would pay for them), their login shell and a
# client key, whose line in authorized_keys carries this bed's marker. Prints the user when it was created.
ensure_user() {
  local user=$1 shell=$2 home auth
  if ! id "$user" >/dev/null 2>&1; then
    mkdir -p "$D/skel"
    useradd --create-home --skel "$D/skel" --shell "$shell" "$user"
    echo "$user"
  fi
  [[ $(getent passwd "$user" | cut -d: -f7) == "$shell" ]] || usermod --shell "$shell" "$user"
  home=$(getent passwd "$user" | cut -d: -f6)
  [[ -f $D/keys/$user ]] || ssh-keygen -q -t ed25519 -N '' -C "$(key_marker)" -f "$D/keys/$user"
  install -d -m 0700 -o "$user" -g "$user" "$home/.ssh"
  auth=$home/.ssh/authorized_keys
  { other_keys "$auth" "$D/keys/$user.pub"; echo "$(cut -d' ' -f1,2 "$D/keys/$user.pub") $(key_marker)"; } |
    replace_keys "$user"
}

# down: removes this bed's lines from every bed user's authorized_keys.
remove_keys() {
  local user auth
  for user in "${USERS[@]}"; do
    id "$user" >/dev/null 2>&1 || continue
    auth=$(getent passwd "$user" | cut -d: -f6)/.ssh/authorized_keys
    [[ -f $auth ]] || continue
    other_keys "$auth" "$D/keys/$user.pub" | replace_keys "$user"
  done
}

# Runs "$@" holding the machine-wide lock (users, the password and authorized_keys are shared by every bed).
machine_locked() {
  install -d -m 0700 "$MACHINE"
  (
    flock -w 60 8 || die "another test-cluster.sh is holding $MACHINE/lock"
    "$@"
  ) 8>"$MACHINE/lock"
}

# Prints the password of the first file given that matches USER1's current password (checked against
# /etc/shadow): beds made by an older version of this script each kept their own password.
legacy_password() {
  "$PY" -W ignore - "$USER1" "$@" <<'PYEOF'
import crypt, subprocess, sys
entry = subprocess.run(["getent", "shadow", sys.argv[1]], capture_output=True, text=True).stdout.split(":")
hashed = entry[1] if len(entry) > 1 else ""
for path in sys.argv[2:]:
    try:
        with open(path) as f:
            password = f.read().strip()
    except OSError:
        continue
    if hashed.startswith("$") and password and crypt.crypt(password, hashed) == hashed:
        print(password)
        break
PYEOF
}

# USER1's password is set only when the user or the machine's password file is new. The bed keeps a copy
# in its own secret dir, which `env` reads.
ensure_password() {
  local created=$1 store=$MACHINE/password adopted=""
  if [[ ! -s $store ]]; then
    adopted=$(legacy_password "$D/secret/password" "$DEFAULT_D/secret/password")
    if [[ -n $adopted ]]; then
      (umask 077 && echo "$adopted" >"$store")
    else
      (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$store")
      created=yes
    fi
  fi
  # chpasswd reads stdin: the password never appears on a command line.
  [[ -z $created ]] || printf '%s:%s\n' "$USER1" "$(cat "$store")" | chpasswd
  install -m 0600 "$store" "$D/secret/password"
}

setup_users() {
  local created
  created=$(ensure_user "$USER1" /bin/bash)
  ensure_user "$USER2" /bin/bash >/dev/null
  ensure_user "$TCSH_USER" /usr/bin/tcsh >/dev/null
  ensure_user "$LIMITED_USER" /bin/bash >/dev/null
  ensure_password "$created"
}

prepare_dirs() {
  install -d -m 0755 "$D" "$D/etc" "$D/log" "$D/pids" "$D/run" "$D/munge" "$D/ssh" "$D/spool"
  install -d -m 0700 "$D/keys" "$D/secret"
  # A base_dir that USER1 and USER2 share, and the server kind's queue dir: root-owned and sticky, as an admin
  # would make them.
  install -d -m 1777 "$D/shared" "$D/queue"
  install -d -m 0755 /run/sshd
  install -d -m 0755 -o mysql -g mysql "$D/mysql"
  [[ -f $D/log/mariadb.log ]] || install -m 0640 -o mysql -g mysql /dev/null "$D/log/mariadb.log"
}

ensure_secrets() {
  [[ -s $D/secret/dbpass ]] || (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$D/secret/dbpass")
  [[ -f $D/munge/munge.key ]] || mungekey --create --keyfile="$D/munge/munge.key"
  chmod 0600 "$D/munge/munge.key"
  [[ -f $D/ssh/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C slurmray-testbed-host -f "$D/ssh/host_ed25519"
}

# ---------------------------------------------------------------- ports

# Reuses the recorded ports when they are all free (so a restart keeps the same env), else picks new ones.
choose_ports() {
  local names=(SSH_PORT CTLD_PORT DBD_PORT DB_PORT NODE1_PORT NODE2_PORT NODE3_PORT)
  # SO_REUSEADDR as the daemons use it: a port in TIME_WAIT after a restart counts as free.
  local recorded=()
  [[ -f $D/ports.env ]] && mapfile -t recorded < <(cut -d= -f2 "$D/ports.env")
  if ((${#recorded[@]})) && "$PY" - "${recorded[@]}" 2>/dev/null <<'EOF'; then return 0; fi
import socket, sys
for port in map(int, sys.argv[1:]):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
EOF
  "$PY" - "${names[@]}" >"$D/ports.env" <<'EOF'
import random, socket, sys
# Below Linux's ephemeral range so an outgoing connection cannot take the port before the daemon binds it.
held, names = [], sys.argv[1:]
for port in random.sample(range(20000, 32000), 200):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", port))
    except OSError:
        s.close()
        continue
    held.append(s)
    if len(held) == len(names):
        break
for name, s in zip(names, held):
    print(f"{name}={s.getsockname()[1]}")
EOF
}

# ---------------------------------------------------------------- config

write_configs() {
  local host i
  host=$(hostname -s)
  # shellcheck source=/dev/null
  source "$D/ports.env"
  local node_ports=("$NODE1_PORT" "$NODE2_PORT" "$NODE3_PORT")
  {
    cat <<EOF
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$D/spool/ctld
SlurmdSpoolDir=$D/spool/slurmd-%n
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd-%n.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
CommunicationParameters=NoInAddrAny
# batch_sched_delay=0: a job that ends frees its CPUs for the next at once, not at the next 2 s pass (Slurm's
# default delays batch scheduling by up to 3 s). Each node declares 4 CPUs on this 2-core machine
# (config_overrides), so a job array of trivial elements is not held to 6 at a time.
SchedulerParameters=sched_interval=2,batch_sched_delay=0
SlurmdParameters=config_overrides
MinJobAge=300
KillWait=5
MailProg=/bin/true
ReturnToService=2
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
AccountingStoragePass=$D/munge/munge.sock
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
EOF
    for i in 0 1 2; do
      echo "NodeName=${NODES[i]} NodeAddr=127.0.0.1 NodeHostname=$host Port=${node_ports[i]} CPUs=4 RealMemory=4000 State=UNKNOWN"
    done
    echo "PartitionName=debug Nodes=n[1-3] Default=YES MaxTime=INFINITE State=UP"
    echo "PartitionName=short Nodes=n[1-3] MaxTime=5 State=UP"
  } >"$D/etc/slurm.conf"
  chmod 0644 "$D/etc/slurm.conf"

  (umask 077 && cat >"$D/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.sock
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
LogFile=$D/log/slurmdbd.log
PidFile=$D/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$(cat "$D/secret/dbpass")
StorageLoc=slurm_acct_db
EOF
  )

  cat >"$D/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $D/ssh/host_ed25519
PidFile $D/run/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers ${USERS[*]}
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp /usr/lib/openssh/sftp-server
SetEnv SLURM_CONF=$D/etc/slurm.conf
AllowTcpForwarding yes
MaxSessions 50
MaxStartups 50:30:100
UseDNS no
PrintMotd no
PrintLastLog no

Match User $LIMITED_USER
  MaxSessions $LIMITED_MAX_SESSIONS
EOF

  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$D/ssh/host_ed25519.pub")" >"$D/ssh/known_hosts"
  local user alias
  for user in "${USERS[@]}"; do
    case $user in
      "$USER1") alias=srtb ;;
      "$USER2") alias=srtb2 ;;
      "$TCSH_USER") alias=srtb-tcsh ;;
      "$LIMITED_USER") alias=srtb-limited ;;
    esac
    cat <<EOF
Host $alias
  HostName 127.0.0.1
  Port $SSH_PORT
  User $user
  IdentityFile $D/keys/$user
  IdentitiesOnly yes
  UserKnownHostsFile $D/ssh/known_hosts
  StrictHostKeyChecking yes

EOF
  done >"$D/ssh/ssh_config"
}

# ---------------------------------------------------------------- daemons

start_munge() {
  start munged munged -F --key-file="$D/munge/munge.key" --socket="$D/munge/munge.sock" \
    --pid-file="$D/run/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/munge.seed"
}

start_mariadb() {
  if [[ ! -d $D/mysql/data/mysql ]]; then
    mariadb-install-db --no-defaults --user=mysql --datadir="$D/mysql/data" --skip-test-db \
      --auth-root-authentication-method=socket >"$D/log/mariadb-install.out" 2>&1 ||
      fail mariadb-install "mariadb-install-db failed"
  fi
  start mariadb mariadbd --no-defaults --user=mysql --datadir="$D/mysql/data" --socket="$D/mysql/mysqld.sock" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$D/mysql/mysqld.pid" --log-error="$D/log/mariadb.log" \
    --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900
}

# The slurmdbd database user is created once per datadir; root logs in over the socket as the OS root user.
init_database() {
  [[ -f $D/mysql/data/.slurm-user ]] && return 0
  mariadb --no-defaults --socket="$D/mysql/mysqld.sock" -uroot <<EOF || fail mariadb "creating the slurm database user failed"
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$(cat "$D/secret/dbpass")';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
  touch "$D/mysql/data/.slurm-user"
}

# sacct for the test users needs the cluster, an account and the users registered (once per database and
# user list: the marker file holds the list registered).
register_accounting() {
  local users
  users=$(IFS=,; echo "root,${USERS[*]}")
  [[ $(cat "$D/mysql/data/.slurm-accounts" 2>/dev/null) == "$users" ]] && return 0
  if [[ ! -f $D/mysql/data/.slurm-accounts ]]; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null || fail slurmdbd "sacctmgr add cluster failed"
    sacctmgr -i add account slurmray Cluster="$CLUSTER" Description=testbed Organization=slurmray >/dev/null ||
      fail slurmdbd "sacctmgr add account failed"
  fi
  # With some users already there sacctmgr may exit 1 ("Nothing new added"): what counts is that all are there.
  sacctmgr -i add user "$users" Account=slurmray Cluster="$CLUSTER" >/dev/null || true
  [[ $(sacctmgr -n -P show user format=user | sort | paste -sd,) == "$(tr , '\n' <<<"$users" | sort | paste -sd,)" ]] ||
    fail slurmdbd "sacctmgr add user failed"
  echo "$users" >"$D/mysql/data/.slurm-accounts"
}

nodes_up() {
  local states
  states=$(sinfo -h -N -p debug -o '%N %t' | sort -u)
  [[ $(grep -cE '^n[1-3] (idle|mix|alloc)$' <<<"$states") -eq 3 ]]
}

ssh_login_works() {
  ssh -F /dev/null -i "$D/keys/$USER1" -p "$SSH_PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
    -o UserKnownHostsFile="$D/ssh/known_hosts" -o StrictHostKeyChecking=yes -o ConnectTimeout=5 \
    "$USER1@127.0.0.1" true
}

script_sha() { sha256sum <"${BASH_SOURCE[0]}" | cut -d' ' -f1; }

stop_all() {
  local i
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do stop "${DAEMONS[i]}"; done
}

all_running() {
  local d
  for d in "${DAEMONS[@]}"; do is_running "$d" || return 1; done
}

cmd_up() {
  local t0=$SECONDS
  [[ $EUID -eq 0 ]] || die "must run as root (it installs packages, creates users and starts daemons)"
  mkdir -p "$D" && chmod 0755 "$D"
  exec 9>"$D/.lock"
  flock -w 180 9 || die "another test-cluster.sh is holding $D/.lock"
  # A bed started by another version of this script is restarted: its config may differ.
  if all_running && [[ -f $D/ports.env && $(cat "$D/script.sha" 2>/dev/null) == "$(script_sha)" ]]; then
    say "already up"
    return 0
  fi
  install_packages
  prepare_dirs
  # A partly running bed is restarted whole: its daemons would not match freshly written config.
  stop_all
  machine_locked setup_users
  ensure_secrets
  choose_ports
  write_configs
  export SLURM_CONF=$D/etc/slurm.conf

  start_munge
  start_mariadb
  wait_for 10 munged "munge socket" test -S "$D/munge/munge.sock"
  chmod 0755 "$D/munge"
  wait_for 30 mariadb "MariaDB socket" mariadb-admin --no-defaults --socket="$D/mysql/mysqld.sock" -uroot ping
  init_database
  start slurmdbd slurmdbd -D
  wait_for 20 slurmdbd "slurmdbd port $DBD_PORT" port_open "$DBD_PORT"
  register_accounting
  start slurmctld slurmctld -D -f "$SLURM_CONF"
  local n
  for n in "${NODES[@]}"; do start "slurmd-$n" slurmd -D -N "$n" -f "$SLURM_CONF"; done
  start sshd /usr/sbin/sshd -D -f "$D/ssh/sshd_config" -E "$D/log/sshd.log"
  wait_for 20 slurmctld "slurmctld port $CTLD_PORT" port_open "$CTLD_PORT"
  for n in "${NODES[@]}"; do is_running "slurmd-$n" || fail "slurmd-$n" "exited at start"; done
  wait_for 30 slurmctld "nodes n1..n3 up (sinfo)" nodes_up
  wait_for 15 sshd "key login of $USER1" ssh_login_works
  script_sha >"$D/script.sha"
  say "up in $((SECONDS - t0))s (state in $D; env: bash scripts/test-cluster.sh env)"
}

cmd_down() {
  [[ -d $D/pids ]] || return 0
  exec 9>"$D/.lock"
  flock -w 180 9 || die "another test-cluster.sh is holding $D/.lock"
  stop_all
  machine_locked remove_keys
  say "down"
}

cmd_status() {
  local d down=0
  for d in "${DAEMONS[@]}"; do
    if is_running "$d"; then
      printf '%-10s running (pid %s)\n' "$d" "$(cat "$(pidfile "$d")")"
    else
      printf '%-10s DOWN\n' "$d"
      down=1
    fi
  done
  return "$down"
}

cmd_env() {
  [[ -f $D/ports.env ]] || die "no test bed in $D: run bash scripts/test-cluster.sh up"
  # shellcheck source=/dev/null
  source "$D/ports.env"
  local name value
  while read -r name value; do
    printf 'export %s=%q\n' "$name" "$value"
  done <<EOF
SLURMRAY_TB_DIR $D
SLURMRAY_TB_HOST 127.0.0.1
SLURMRAY_TB_PORT $SSH_PORT
SLURMRAY_TB_USER $USER1
SLURMRAY_TB_KEY $D/keys/$USER1
SLURMRAY_TB_USER2 $USER2
SLURMRAY_TB_KEY2 $D/keys/$USER2
SLURMRAY_TB_TCSH_USER $TCSH_USER
SLURMRAY_TB_TCSH_KEY $D/keys/$TCSH_USER
SLURMRAY_TB_LIMITED_USER $LIMITED_USER
SLURMRAY_TB_LIMITED_KEY $D/keys/$LIMITED_USER
SLURMRAY_TB_LIMITED_MAX_SESSIONS $LIMITED_MAX_SESSIONS
SLURMRAY_TB_SHARED_DIR $D/shared
SLURMRAY_TB_QUEUE_DIR $D/queue
SLURMRAY_TB_PASSWORD $(cat "$D/secret/password")
SLURMRAY_TB_KNOWN_HOSTS $D/ssh/known_hosts
SLURMRAY_TB_SSH_CONFIG $D/ssh/ssh_config
SLURM_CONF $D/etc/slurm.conf
EOF
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) die "usage: bash scripts/test-cluster.sh up|down|status|env" ;;
esac
