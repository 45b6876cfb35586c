#pragma once
// Internal to operators/ssh: the hop through a gateway (jump host). A direct-tcpip channel
// on the gateway's session carries the bytes of the target's SSH connection; this pump
// copies them between the channel and one end of a socketpair, whose other end the target
// session uses as its socket (SSH_OPTIONS_FD). libssh 0.10 has no jump API of its own.
//
// From construction on, the pump's thread is the only user of the gateway session. It ends
// when either side closes (the target session closed its socket, or the gateway closed the
// channel: the target then sees end-of-file, as on a dropped TCP connection) or when the
// pump is destroyed, which joins the thread.

#include <libssh/libssh.h>

#include <atomic>
#include <thread>

#include "operators/ssh/libssh_handles.hpp"

namespace flow::ssh::detail {

class ChannelPump {
 public:
  // Takes `channel` (open, on `gateway`) and `fd` (the pump's end of the socketpair).
  ChannelPump(ssh_session gateway, ChannelPtr channel, int fd);
  ~ChannelPump();
  ChannelPump(const ChannelPump&) = delete;
  ChannelPump& operator=(const ChannelPump&) = delete;

 private:
  void run();

  ssh_session gateway_;
  ChannelPtr channel_;
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace flow::ssh::detail
