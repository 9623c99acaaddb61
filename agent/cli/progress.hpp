// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <chrono>
#include <future>
#include <ostream>
#include <string>
#include <utility>

namespace kunci::cli {

/** Runs work and returns what it returns (or throws what it throws). When enabled (stderr is a
 *  terminal), shows a spinner with message on err while it runs, and clears the line after. */
template <class Work>
auto withSpinner(bool enabled, std::ostream& err, const std::string& message, Work&& work)
    -> decltype(work()) {
    if (!enabled) {
        return work();
    }
    auto running = std::async(std::launch::async, std::forward<Work>(work));
    static constexpr std::array<char, 4> kFrames = {'|', '/', '-', '\\'};
    const auto started = std::chrono::steady_clock::now();
    for (std::size_t frame = 0;
         running.wait_for(std::chrono::milliseconds(125)) != std::future_status::ready; ++frame) {
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count();
        err << '\r' << kFrames[frame % kFrames.size()] << ' ' << message << " (" << seconds << " s)"
            << std::flush;
    }
    err << "\r\033[K" << std::flush;
    return running.get();
}

}  // namespace kunci::cli
