#pragma once
// How long SshTransport keeps trying to get a broken connection back. After a failure it
// waits first_delay, then factor times longer each time, never more than max_delay, until
// the waits add up to `budget`; then it gives up with an EnvironmentError. The schedule is
// plain data so that tests and docs can show it: with the defaults it is
// 0.5 1 2 4 8 8 8 8 8 8 4.5 s (60 s in total, 11 waits, 12 connection attempts).

#include <chrono>
#include <string>
#include <vector>

namespace flow::ssh {

struct ReconnectPolicy {
  std::chrono::milliseconds first_delay{500};
  double factor = 2.0;  // >= 1
  std::chrono::milliseconds max_delay{8000};
  std::chrono::milliseconds budget{60000};  // total waiting; 0 = give up at the first failure

  // The waits before the 2nd, 3rd, ... connection attempt. Their sum is exactly `budget`
  // (the last wait is shortened to fit); empty when budget is 0.
  std::vector<std::chrono::milliseconds> delays() const;

  // "0.5 1 2 4 8 8 ... s (60 s)": for docs and messages.
  std::string describe() const;
};

}  // namespace flow::ssh
