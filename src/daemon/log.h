// keywardd's log: one line per event on standard error, which systemd puts
// in the journal. Never give it a code, a token, a secret or a message
// body; values that came from outside go through Shown().
#pragma once

#include <string>
#include <string_view>

namespace keyward::daemon {

// Writes "keywardd: <line>\n" with one write(2), so that lines from the
// daemon and its children do not interleave.
void Log(std::string_view line);

// A value from outside, made safe for one log line: control characters
// and non-ASCII bytes become '?', and it is cut to `max` bytes.
std::string Shown(std::string_view value, std::size_t max = 64);

}  // namespace keyward::daemon
