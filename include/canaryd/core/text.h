// Small text helpers shared by the layers: joining, and "did you mean" suggestions.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace canaryd {

// Joins `items` with `separator`.
std::string join(std::span<const std::string_view> items, std::string_view separator);
std::string join(std::span<const std::string> items, std::string_view separator);

// Edit distance (insertions, deletions, substitutions; case-insensitive).
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a plausible typo
// (distance at most a third of the word's length, at least 1), otherwise nothing.
std::optional<std::string> closestMatch(std::string_view word,
                                        std::span<const std::string_view> candidates);

// A number as people write it: 99, 0.5, 1e-06 (no trailing ".0"); nan, inf, -inf.
std::string formatNumber(double value);

// ASCII lower case (names, kinds, header names; not locale text).
std::string lowercase(std::string_view text);

// `text` quoted for messages, with control characters, quotes and bytes that are not valid
// UTF-8 escaped ("a\"b\x00\xff"): the result is always valid UTF-8, so outside bytes quoted
// into a status, an Event or a log line cannot make the JSON writer refuse them.
std::string quote(std::string_view text);
// The same escapes, without the quotes (quotes and backslashes kept as they are): outside text
// shown as it reads ("answered 403: not allowed").
std::string printable(std::string_view text);

}  // namespace canaryd
