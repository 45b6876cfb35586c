#pragma once
// A value that most of a million objects leave at its default, kept on the heap only when
// set: one pointer's room instead of the value's. Reads never fail: an unset Defaulted reads
// as T{} (one shared instance). Writes go through edit(), which makes the object its own
// copy first. Value semantics: a copy copies the value.
//
// For a `dag::Task`'s `slurm:` block (160 bytes), which a static DAG of 1,000,000 local
// tasks never sets. Compare engine/core/boxed.hpp, an optional: there "unset" is a state
// of its own, here it is the default value.

#include <memory>

namespace flow {

template <typename T>
class Defaulted {
 public:
  Defaulted() = default;
  Defaulted(const Defaulted& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Defaulted(Defaulted&&) noexcept = default;
  Defaulted& operator=(const Defaulted& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Defaulted& operator=(Defaulted&&) noexcept = default;
  ~Defaulted() = default;

  const T& operator*() const { return value_ ? *value_ : default_value(); }
  const T* operator->() const { return &**this; }
  // The value to change; held from now on even if it is changed back to T{}.
  T& edit() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }
  // Whether edit() was called (the value may still equal T{}).
  bool held() const { return value_ != nullptr; }

 private:
  static const T& default_value() {
    static const T value{};
    return value;
  }
  std::unique_ptr<T> value_;
};

}  // namespace flow
