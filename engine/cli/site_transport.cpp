#include "engine/cli/site_transport.hpp"

#include "engine/core/error.hpp"
#include "operators/ssh/ssh_transport.hpp"
#include "operators/transport/local_transport.hpp"

namespace flow::cli {

std::unique_ptr<transport::Transport> open_transport(
    const site::Site& s, std::function<void(const std::string&)> on_event) {
  switch (s.transport) {
    case site::Transport::kLocal:
      return std::make_unique<transport::LocalTransport>();
    case site::Transport::kSsh: {
      ssh::SshTransportOptions o;
      // Within one call the transport rides out short outages (an sshd restart); longer
      // ones are the executor's business: jobs stay tracked and the next poll tries again.
      o.reconnect.budget = std::chrono::seconds(10);
      o.on_event = std::move(on_event);
      return std::make_unique<ssh::SshTransport>(s, std::move(o));
    }
    case site::Transport::kNone:
      break;
  }
  throw EnvironmentError("site '" + s.name +
                         "' has scheduler slurm but transport none: use transport ssh (a "
                         "remote cluster) or local (sbatch on this machine)");
}

}  // namespace flow::cli
