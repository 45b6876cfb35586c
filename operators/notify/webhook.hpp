#pragma once
// run::WebhookSender over libcurl: each request is one blocking curl_easy_perform on a
// worker thread of its own sender (one thread, requests in order), so the engine's
// io_context never waits for a receiver; the outcome is posted back to it. POST with
// `Content-Type: application/json`, http and https only (also for redirects, which are not
// followed), the request's connect and total timeouts, no signals (CURLOPT_NOSIGNAL).
// Errors never contain the URL's path or query (where Slack and Mattermost keep tokens).

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/run/notifier.hpp"

namespace flow::notify {

class CurlWebhookSender : public run::WebhookSender {
 public:
  explicit CurlWebhookSender(boost::asio::io_context& io);
  // Waits for the request in flight (bounded by its total timeout); queued ones are
  // dropped without a report.
  ~CurlWebhookSender() override;
  void send(run::WebhookRequest request, run::WebhookDone done) override;

 private:
  void work();
  boost::asio::io_context& io_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<run::WebhookRequest, run::WebhookDone>> queue_;
  bool stop_ = false;
  std::thread worker_;  // started by the first send
};

// One POST, blocking: "" for a 2xx answer, else why not. For the worker, and for tests.
std::string post_json(const run::WebhookRequest& request);

}  // namespace flow::notify
