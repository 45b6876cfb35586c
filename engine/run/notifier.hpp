#pragma once
// The seam between the engine's alerts (engine/run/alerts.hpp, docs/ALERTS.md) and the
// thing that speaks HTTP. The engine decides what to send, when, how often to try and what
// to record; a WebhookSender makes one attempt: one POST of a JSON body. The libcurl one
// is operators/notify/webhook.hpp, handed in by the composition root through
// runtime::Services, so nothing under engine/ outside engine/cli links libcurl.

#include <chrono>
#include <functional>
#include <string>

namespace flow::run {

struct WebhookRequest {
  std::string url;   // http:// or https://; may carry a token: never logged or stored
  std::string body;  // JSON
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(10)};
};

// "" when the receiver answered 2xx, else why not ("HTTP 500", "connection refused ...");
// never contains the URL's path or query.
using WebhookDone = std::function<void(const std::string& error)>;

class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  // Makes one attempt without blocking the caller; `done` runs later on the io_context
  // the sender was made for, exactly once (also when the sender is destroyed first: then
  // with an error, or not at all if that io_context is gone).
  virtual void send(WebhookRequest request, WebhookDone done) = 0;
};

}  // namespace flow::run
