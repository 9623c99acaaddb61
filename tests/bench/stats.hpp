// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kunci::bench {

/** The distribution of one set of samples (microseconds, or any unit). */
struct Summary {
    std::size_t n = 0;
    double min = 0, median = 0, mean = 0, p95 = 0, p99 = 0, max = 0;

    /** Nearest-rank percentiles (p99 of 100 samples is the 99th smallest). */
    static Summary of(std::vector<double> samples);
    nlohmann::json toJson(double scale = 1) const;
};

/** value with this many decimals, for the results page. */
std::string fixed(double value, int decimals);

}  // namespace kunci::bench
