// Counting the global operator new, for the tests that assert a warmed-up
// step or invoke allocates nothing. The replacement operators live in
// counting_new.cpp, an object library linked only into the test executables
// that use this header (tests/CMakeLists.txt), so no other suite runs with a
// replaced operator new.
#pragma once

#include <functional>

namespace qlite::alloc_testing {

// Number of operator new calls (plain and nothrow forms) made while fn runs,
// on any thread. Counting is off outside such calls.
long allocations_during(const std::function<void()>& fn);

}  // namespace qlite::alloc_testing
