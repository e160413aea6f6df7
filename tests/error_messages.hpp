#pragma once
// Checking the messages of the errors xdense throws, shared by the tests of every component.

#include <exception>
#include <string>

#include <gtest/gtest.h>

namespace xdense::testing {

/// Runs `f`, expects it to throw E, and returns the message: a test failure (and "") when it throws
/// nothing or another type.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

/// `text` contains `part`; the failure message quotes both.
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

}  // namespace xdense::testing
