#pragma once
// The queued instances of a run that are ready to launch, in the order they became ready,
// kept per site so that a site with no free slot costs nothing to pass over. A tick offers
// the entries in that order and stops offering a site's entries at the first that does
// not fit; what it offers costs O(log sites) each, so a tick costs what it launches, not
// what waits (a foreach of a million items waits in here).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace flow::run {

class RunnableQueue {
 public:
  // `id` became ready on `site`, after everything pushed before it.
  void push(const std::string& site, std::string id);
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  void clear();

  // What `take` says of an entry it was offered.
  enum class Taken {
    kYes,       // launched, failed or no longer queued: the entry is gone
    kSiteFull,  // no free slot on its site: the entry stays first of its site, and no
                // other entry of that site is offered until the next drain()
  };
  // Offers the entries to `take` in the order they were pushed, passing over the sites
  // `take` said are full, until every site is full or empty. `take` may push() (an entry
  // of a site still offered comes after the one `take` was given) but not clear().
  void drain(const std::function<Taken(const std::string& id)>& take);

 private:
  struct Entry {
    std::uint64_t seq;
    std::string id;
  };
  std::map<std::string, std::deque<Entry>> by_site_;
  std::uint64_t next_seq_ = 0;
  size_t size_ = 0;
  bool draining_ = false;
  std::vector<std::deque<Entry>*> woken_;  // sites push() made non-empty during drain()
};

}  // namespace flow::run
