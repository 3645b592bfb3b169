#pragma once
// The p-th percentile (0 < p <= 1) of a sample, nearest rank: the smallest
// value with at least p of the sample at or below it. Shared by the benchmarks.
#include <algorithm>
#include <vector>

namespace iocaf::bench {

inline double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

} // namespace iocaf::bench
