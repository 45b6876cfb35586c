#pragma once
// Shell quoting for values substituted into commands (docs/REFERENCE.md §3.10: every
// substituted value is shell-quoted). Same rule as Python's shlex.quote: a value made only
// of safe characters is left alone, anything else is wrapped in single quotes with embedded
// quotes escaped, so the shell always sees exactly one literal word.

#include <string>
#include <string_view>

namespace flow {

std::string shell_quote(std::string_view value);

}  // namespace flow
