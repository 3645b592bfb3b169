#include "io/fault.hpp"

#include <atomic>

namespace iocaf::io::fault {

namespace {
constexpr int points = static_cast<int>(point::count_);
std::atomic<int> remaining[points];
std::atomic<unsigned long> codes[points];
} // namespace

void inject(point p, unsigned long code, int times) {
  auto i = static_cast<int>(p);
  codes[i].store(code);
  remaining[i].store(times);
}

bool take(point p, unsigned long& code) {
  auto i = static_cast<int>(p);
  if (remaining[i].load(std::memory_order_relaxed) <= 0)
    return false;
  if (remaining[i].fetch_sub(1) <= 0)
    return false;
  code = codes[i].load();
  return true;
}

} // namespace iocaf::io::fault
