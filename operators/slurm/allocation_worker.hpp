#pragma once
// The worker flow uploads for allocation mode (allocation_pool.hpp has the file protocol),
// and the job script that starts one on every node of an allocation.
//
// The worker is a POSIX shell script that needs only /bin/sh and coreutils (date, mv, cat,
// sleep, mkdir, nproc): every compute node has them before any module is loaded, while
// the Python a node offers depends on the module stack and differs between systems and
// stages. It opens no network port: it polls its inbox directory on the shared file
// system every 0.2 s, starts each task script it finds as a process group of its own
// when the cores its header asks for are free (in the order found; one that does not fit
// is started before any other), and writes when each started and ended. A node with nothing in
// flight and nothing new for the idle timeout closes its inbox (a rename, so a task written
// afterwards fails to land rather than being lost) and ends; so does the allocation when every
// node's worker has ended. An engine that never comes back therefore costs at most the idle
// timeout.

#include <string>

#include "engine/site/site.hpp"
#include "operators/lamec/lamec.hpp"

namespace flow::slurm {

// The worker's text (uploaded to <allocation dir>/worker.sh).
const std::string& worker_script();

// <workdir>/allocations/<uid>
std::string allocation_dir(const site::Site& site, const std::string& uid);

// The job name of an allocation: flow.alloc.<uid>
std::string allocation_job_name(const std::string& uid);

// The allocation's job script, from the LAMEC generator (the site's partition, account and
// module block): `allocation.nodes` whole nodes for `allocation.time`, its output in
// <dir>/allocation.log, and one srun step that starts the worker on each node with every
// core and GPU of it.
std::string allocation_job_script(const site::Site& site, const std::string& uid,
                                  const lamec::ModuleCatalog& modules);

}  // namespace flow::slurm
