// The allocation worker (POSIX sh + coreutils) and the job script that starts it.
#include "operators/slurm/allocation_worker.hpp"

#include <chrono>
#include <cstdio>

#include "engine/core/shell.hpp"
#include "operators/slurm/remote_dir.hpp"

namespace flow::slurm {

namespace {

// Usage: worker.sh DIR IDLE_SECONDS. Each task script (written by slurm_alloc.cpp) records
// its own exit status in done/; the worker records starts, cancels, and tries whose process
// died without a record (killed from outside): exit 137.
const char* const kWorker = R"WORKER(#!/bin/sh
# flow allocation worker: runs the task scripts flow places in this node's inbox.
# Needs /bin/sh and coreutils (setsid, from util-linux, if present: clean cancels).
dir=$1
idle=${2:-300}
node=${SLURMD_NODENAME:-$(hostname)}
base=$dir/n/$node
inbox=$base/inbox
mkdir -p "$inbox" "$base/run/begun" "$base/done/acked" "$base/cancel" || exit 1
ms() { date +%s%3N; }
record() { # id "exit end [word]"
  printf '%s\n' "$2" > "$base/done/.$1" && mv -f "$base/done/.$1" "$base/done/$1.exit"
}
if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi
cores=${SLURM_CPUS_ON_NODE:-$(nproc)}
gpus=${CUDA_VISIBLE_DEVICES:--}
[ -n "$gpus" ] || gpus=-
printf '%s %s %s\n' "$cores" "$gpus" "$(ms)" > "$base/.info" && mv -f "$base/.info" "$base/info"
busy=0 # cores of the tasks running
hol=   # a task script whose cores were not free: nothing else starts before it
# fits ID: true when the cores inbox/ID.sh asks for (its header) are free, or nothing
# runs; adds them to busy and ID to this round's starts. A script gone meanwhile fits.
fits() {
  case $1 in *[!a-z0-9]*) return 0 ;; esac
  c=1
  { read -r _; read -r _ _ _ _ _ c _; } < "$inbox/$1.sh" 2>/dev/null || return 0
  case $c in ''|*[!0-9]*) c=1 ;; esac
  [ "$busy" -eq 0 ] || [ $((busy + c)) -le "$cores" ] || return 1
  busy=$((busy + c))
  go="$go $1"
  eval "c_$1=\$c"
}
last=$(date +%s)
closing=0
while [ -d "$base" ]; do
  for c in "$base"/cancel/*; do
    [ -e "$c" ] || continue
    id=${c##*/}
    if [ -e "$inbox/$id.sh" ] && mv "$inbox/$id.sh" "$base/run/$id.sh" 2>/dev/null; then
      record "$id" "-1 $(ms) unstarted"
    elif [ -e "$base/run/$id.pid" ] && [ ! -e "$base/done/$id.exit" ]; then
      read -r pid _ < "$base/run/$id.pid"
      kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
      (sleep 5; kill -KILL "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null) &
      record "$id" "143 $(ms) cancelled"
    fi
    rm -f "$c"
  done
  # What runs, and the cores it holds; a try whose process is gone without an end record
  # was killed from outside.
  running=0
  busy=0
  for p in "$base"/run/*.pid; do
    [ -e "$p" ] || continue
    id=${p##*/}
    id=${id%.pid}
    [ -e "$base/done/$id.exit" ] || [ -e "$base/done/acked/$id.exit" ] && continue
    pid=
    c=1
    read -r pid c < "$p" 2>/dev/null
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      running=$((running + 1))
      busy=$((busy + ${c:-1}))
    elif [ ! -e "$base/done/$id.exit" ] && [ ! -e "$base/done/acked/$id.exit" ] && [ -e "$p" ]; then
      record "$id" "137 $(ms) killed"
    fi
  done
  # Task scripts flow placed, each started when its cores are free: flow may place more
  # than the node's cores at once (allocation.prefetch), so the next starts as one ends.
  # One that does not fit is started before any other. The round's starts move to run/
  # with one mv, so a start costs one process (the task's own).
  go=
  if [ -n "$hol" ] && [ -e "$inbox/$hol.sh" ]; then
    fits "$hol" && hol=
  else
    hol=
  fi
  if [ -z "$hol" ]; then
    for f in "$inbox"/*.sh; do
      [ -e "$f" ] || continue
      id=${f##*/}
      id=${id%.sh}
      case "$go " in *" $id "*) continue ;; esac # the waiting one, taken above
      fits "$id" || { hol=$id; break; }
    done
  fi
  if [ -n "$go" ]; then
    set --
    for id in $go; do set -- "$@" "$inbox/$id.sh"; done
    mv -f "$@" "$base/run/" 2>/dev/null
    t=$(ms)
    for id in $go; do
      [ -e "$base/run/$id.sh" ] || continue
      eval "c=\$c_$id"
      $detach sh "$base/run/$id.sh" </dev/null >/dev/null 2>&1 &
      echo "$! $c" > "$base/run/$id.pid"
      echo "$t" > "$base/run/$id.start"
      running=$((running + 1))
    done
  fi
  now=$(date +%s)
  if [ "$running" -gt 0 ]; then
    last=$now
  elif [ "$closing" = 1 ]; then
    : > "$base/closed"
    exit 0
  elif [ $((now - last)) -ge "$idle" ]; then
    # Close the inbox first: a task flow writes from now on fails to land (flow places it
    # elsewhere); one that landed before the rename still runs.
    mv "$inbox" "$base/inbox.closed" 2>/dev/null
    inbox=$base/inbox.closed
    closing=1
    continue
  fi
  sleep 0.2
done
)WORKER";

std::string hms(std::chrono::seconds t) {
  const long long s = t.count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace

const std::string& worker_script() {
  static const std::string text = kWorker;
  return text;
}

std::string allocation_dir(const site::Site& site, const std::string& uid) {
  return without_trailing_slash(site.workdir) + "/allocations/" + uid;
}

std::string allocation_job_name(const std::string& uid) {
  return "flow.alloc." + uid;
}

std::string allocation_job_script(const site::Site& site, const std::string& uid,
                                  const lamec::ModuleCatalog& modules) {
  const site::AllocationSpec a = site.allocation.value_or(site::AllocationSpec{});
  const std::string dir = allocation_dir(site, uid);
  auto req = lamec::make_request(site, dag::SlurmSpec{}, "", modules, dag::Resources{});
  req.job_name = allocation_job_name(uid);
  req.nodes = a.nodes;
  req.ntasks_per_node = 1;
  req.cpus_per_task = 0;
  req.time = hms(a.time);
  req.output = dir + "/allocation.log";
  req.error.clear();
  req.workdir = dir;
  req.extra_sbatch.push_back("--exclusive");
  const int gpus = site.gpus_per_node;
  req.gpus_per_node = gpus;
  const long long idle = a.idle_timeout.count();
  req.executable =
      "srun --nodes=" + std::to_string(a.nodes) + " --ntasks=" + std::to_string(a.nodes) +
      " --ntasks-per-node=1 --cpus-per-task=\"$SLURM_CPUS_ON_NODE\" --mem=0" +
      (gpus > 0 ? " --gres=gpu:" + std::to_string(gpus) : std::string()) + " sh " +
      shell_quote(dir + "/worker.sh") + " " + shell_quote(dir) + " " + std::to_string(idle);
  return lamec::render(req, modules);
}

}  // namespace flow::slurm
