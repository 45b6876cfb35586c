#pragma once
// A value that most of a million objects leave at its default, kept on the heap only when
// set: one pointer's room instead of the value's. Reads never fail: an unset Defaulted reads
// as T{} (one shared instance). Writes go through edit(), which makes the object its own
// copy first. Value semantics: a copy copies the value.
//
// For a `dag::Task`'s `slurm:` block (160 bytes), which a static DAG of 1,000,000 local
// tasks never sets. Compare engine/core/boxed.hpp, an optional: there "unset" is a state
// of its own, here it is the default value.

#include "engine/core/boxed.hpp"

namespace flow {

template <typename T>
class Defaulted {
 public:
  const T& operator*() const { return value_ ? *value_ : default_value(); }
  const T* operator->() const { return &**this; }
  // The value to change; held from now on even if it is changed back to T{}.
  T& edit() { return value_ ? *value_ : value_.emplace(); }
  // Whether edit() was called (the value may still equal T{}).
  bool held() const { return value_.has_value(); }

 private:
  static const T& default_value() {
    static const T value{};
    return value;
  }
  Boxed<T> value_;  // copies copy the value
};

}  // namespace flow
