#include "operators/notify/webhook.hpp"

#include <curl/curl.h>

#include <boost/asio/post.hpp>
#include <mutex>

#include "engine/run/alert_payload.hpp"

namespace flow::notify {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

// curl's messages may quote the URL; only its scheme and host may be shown.
std::string scrub(std::string msg, const std::string& url) {
  const std::string origin = run::webhook_origin(url);
  for (size_t at; !url.empty() && (at = msg.find(url)) != std::string::npos;)
    msg.replace(at, url.size(), origin);
  return msg;
}

}  // namespace

std::string post_json(const run::WebhookRequest& r) {
  global_init();
  CURL* c = curl_easy_init();
  if (!c) return "cannot make a curl handle";
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(r.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "flow");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  const CURLcode rc = curl_easy_perform(c);
  std::string error;
  if (rc != CURLE_OK) {
    error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  } else {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) error = "HTTP " + std::to_string(status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  return scrub(error, r.url);
}

CurlWebhookSender::CurlWebhookSender(boost::asio::io_context& io) : io_(io) {
  global_init();
}

CurlWebhookSender::~CurlWebhookSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void CurlWebhookSender::send(run::WebhookRequest request, run::WebhookDone done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace_back(std::move(request), std::move(done));
    if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
  }
  cv_.notify_all();
}

void CurlWebhookSender::work() {
  for (;;) {
    std::pair<run::WebhookRequest, run::WebhookDone> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    std::string error = post_json(job.first);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      // The outcome goes to the loop thread, the only one that touches the Store.
      boost::asio::post(io_,
                        [done = std::move(job.second), error = std::move(error)] { done(error); });
    }
  }
}

}  // namespace flow::notify
