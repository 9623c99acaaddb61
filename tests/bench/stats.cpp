// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace kunci::bench {
namespace {

double rank(const std::vector<double>& sorted, double percent) {
    const auto index =
        static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(index, 1, sorted.size()) - 1];
}

}  // namespace

Summary Summary::of(std::vector<double> samples) {
    Summary summary;
    if (samples.empty()) {
        return summary;
    }
    std::sort(samples.begin(), samples.end());
    summary.n = samples.size();
    summary.min = samples.front();
    summary.max = samples.back();
    summary.median = rank(samples, 50);
    summary.p95 = rank(samples, 95);
    summary.p99 = rank(samples, 99);
    summary.mean =
        std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
    return summary;
}

nlohmann::json Summary::toJson(double scale) const {
    return {{"n", n},
            {"min", min * scale},
            {"median", median * scale},
            {"mean", mean * scale},
            {"p95", p95 * scale},
            {"p99", p99 * scale},
            {"max", max * scale}};
}

std::string fixed(double value, int decimals) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(decimals);
    out << value;
    return out.str();
}

}  // namespace kunci::bench
