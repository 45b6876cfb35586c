#include "operators/ssh/channel_pump.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace flow::ssh::detail {

namespace {

// Writes all of `data` to the non-blocking `fd`; false when the reader is gone.
bool send_all(int fd, const char* data, size_t size, const std::atomic<bool>& stop) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (stop) return false;
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

ChannelPump::ChannelPump(ssh_session gateway, ChannelPtr channel, int fd)
    : gateway_(gateway), channel_(std::move(channel)), fd_(fd), thread_([this] { run(); }) {}

ChannelPump::~ChannelPump() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ChannelPump::run() {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  ssh_channel ch = channel_.get();
  std::vector<char> buf(64 * 1024);
  while (!stop_) {
    bool moved = false;
    // gateway -> target
    for (;;) {
      int n = ssh_channel_read_nonblocking(ch, buf.data(), static_cast<uint32_t>(buf.size()), 0);
      if (n == SSH_ERROR) goto done;
      if (n <= 0) break;
      if (!send_all(fd_, buf.data(), static_cast<size_t>(n), stop_)) goto done;
      moved = true;
    }
    if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) goto done;
    // target -> gateway
    for (;;) {
      ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) {  // the target session closed its socket (or it failed)
        ssh_channel_send_eof(ch);
        goto done;
      }
      for (ssize_t off = 0; off < n;) {
        int w = ssh_channel_write(ch, buf.data() + off, static_cast<uint32_t>(n - off));
        if (w == SSH_ERROR) goto done;
        off += w;
      }
      moved = true;
    }
    if (moved) continue;
    // Wait for either side. libssh may already hold channel data it read while writing,
    // which the socket poll cannot see: the short timeout bounds that delay.
    pollfd fds[2] = {{fd_, POLLIN, 0}, {ssh_get_fd(gateway_), POLLIN, 0}};
    ::poll(fds, fds[1].fd >= 0 ? 2 : 1, 20);
  }
done:
  // The target sees end-of-file, as when a TCP connection drops.
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
}

}  // namespace flow::ssh::detail
