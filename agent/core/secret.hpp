// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace kunci::agent {

/** A PIN held for one login: wiped from memory when it goes, never printable. */
class Secret {
public:
    Secret() = default;
    explicit Secret(std::string_view value) : value_(value) {}
    ~Secret();
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;

    std::string_view view() const { return value_; }
    bool empty() const { return value_.empty(); }

private:
    void wipe() noexcept;
    std::string value_;
};

}  // namespace kunci::agent
