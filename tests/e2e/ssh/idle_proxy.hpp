#pragma once
// A TCP proxy on 127.0.0.1 that drops a connection once no byte has crossed it, either
// way, for `idle` — what a NAT gateway or firewall between a laptop or login node and a
// cluster does. Keepalive tests run SSH through it: only a session that sends something
// while idle survives.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ssh_test {

class IdleProxy {
 public:
  IdleProxy(int target_port, std::chrono::milliseconds idle) : target_(target_port), idle_(idle) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 8);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~IdleProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }
  int port() const { return port_; }
  int dropped() const { return dropped_; }  // connections closed for being idle

 private:
  struct Pair {
    int client, server;
    std::chrono::steady_clock::time_point last;
  };

  int connect_target() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(target_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  static bool forward(int from, int to) {
    char buf[16384];
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0) return false;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
      if (w <= 0) return false;
      off += w;
    }
    return true;
  }

  void serve() {
    std::vector<Pair> pairs;
    while (!stop_) {
      std::vector<pollfd> fds{{listen_, POLLIN, 0}};
      for (const auto& p : pairs) {
        fds.push_back({p.client, POLLIN, 0});
        fds.push_back({p.server, POLLIN, 0});
      }
      ::poll(fds.data(), fds.size(), 20);
      const auto now = std::chrono::steady_clock::now();
      if (fds[0].revents & POLLIN) {
        int c = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        int s = c >= 0 ? connect_target() : -1;
        if (s >= 0) {
          pairs.push_back({c, s, now});
        } else if (c >= 0) {
          ::close(c);
        }
      }
      std::vector<Pair> keep;
      const size_t polled = (fds.size() - 1) / 2;  // pairs accepted just now were not polled
      for (size_t i = 0; i < pairs.size(); ++i) {
        Pair p = pairs[i];
        bool open = true;
        if (i < polled) {
          const short cr = fds[1 + 2 * i].revents, sr = fds[2 + 2 * i].revents;
          if (cr & (POLLIN | POLLHUP | POLLERR)) open = open && forward(p.client, p.server);
          if (open && (sr & (POLLIN | POLLHUP | POLLERR))) open = forward(p.server, p.client);
          if ((cr | sr) & POLLIN) p.last = now;
        }
        if (open && now - p.last > idle_) {
          open = false;
          ++dropped_;
        }
        if (open) {
          keep.push_back(p);
        } else {
          ::close(p.client);
          ::close(p.server);
        }
      }
      pairs = std::move(keep);
    }
    for (const auto& p : pairs) {
      ::close(p.client);
      ::close(p.server);
    }
  }

  int target_;
  std::chrono::milliseconds idle_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> dropped_{0};
  std::thread thread_;
};

}  // namespace ssh_test
