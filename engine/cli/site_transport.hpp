#pragma once
// How the CLI reaches a Slurm site: an SshTransport for `transport: ssh`, a LocalTransport
// for `transport: local`. Used by the executor pool (runs) and by `flow logs` (reading a
// running job's log on the site).

#include <functional>
#include <memory>
#include <string>

#include "engine/site/site.hpp"
#include "operators/transport/transport.hpp"

namespace flow::cli {

// `on_event` receives reconnect news, from whatever thread made the call. Throws
// EnvironmentError for a Slurm site without a transport.
std::unique_ptr<transport::Transport> open_transport(
    const site::Site& site, std::function<void(const std::string&)> on_event = {});

}  // namespace flow::cli
