// QLITE_REQUIRE_PEER (tests/support/peer_requirement.h): a missing peer skips
// the test on a developer machine and fails it under CI=true. The results are
// intercepted here, so neither the skip nor the failure reaches this test.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "peer_requirement.h"

namespace qlite::test {
namespace {

// Sets (or, with nullopt, unsets) CI for one scope.
class ScopedCi {
 public:
  explicit ScopedCi(std::optional<std::string> value) {
    if (const char* old = std::getenv("CI")) old_ = old;
    if (value) ::setenv("CI", value->c_str(), 1);
    else ::unsetenv("CI");
  }
  ~ScopedCi() {
    if (old_) ::setenv("CI", old_->c_str(), 1);
    else ::unsetenv("CI");
  }
  ScopedCi(const ScopedCi&) = delete;
  ScopedCi& operator=(const ScopedCi&) = delete;

 private:
  std::optional<std::string> old_;
};

void require(bool present) { QLITE_REQUIRE_PEER(present, "the frobnicator " << 42 << " is absent"); }

// Collects the results `require(present)` reports into r.
void collect(bool present, ::testing::TestPartResultArray& r) {
  ::testing::ScopedFakeTestPartResultReporter reporter(
      ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &r);
  require(present);
}

TEST(PeerRequirement, MissingPeerSkipsOutsideCi) {
  for (const std::optional<std::string>& ci : {std::optional<std::string>{}, std::optional<std::string>{"false"},
                                              std::optional<std::string>{""}}) {
    ScopedCi env(ci);
    EXPECT_FALSE(peers_required());
    ::testing::TestPartResultArray r;
    collect(false, r);
    ASSERT_EQ(r.size(), 1);
    EXPECT_TRUE(r.GetTestPartResult(0).skipped());
    EXPECT_NE(std::string(r.GetTestPartResult(0).message()).find("the frobnicator 42 is absent"), std::string::npos);
  }
}

TEST(PeerRequirement, MissingPeerFailsUnderCiTrue) {
  ScopedCi env(std::string("true"));
  EXPECT_TRUE(peers_required());
  ::testing::TestPartResultArray r;
  collect(false, r);
  ASSERT_EQ(r.size(), 1);
  EXPECT_TRUE(r.GetTestPartResult(0).fatally_failed());
  const std::string msg = r.GetTestPartResult(0).message();
  EXPECT_NE(msg.find("the frobnicator 42 is absent"), std::string::npos) << msg;
  EXPECT_NE(msg.find("scripts/install_peers.sh"), std::string::npos) << msg;
}

TEST(PeerRequirement, PresentPeerReportsNothing) {
  for (const char* ci : {"true", "false"}) {
    ScopedCi env(std::string{ci});
    ::testing::TestPartResultArray r;
    collect(true, r);
    EXPECT_EQ(r.size(), 0);
  }
}

}  // namespace
}  // namespace qlite::test
