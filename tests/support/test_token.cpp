// SPDX-License-Identifier: Apache-2.0
#include "tests/support/test_token.hpp"

#include <fstream>
#include <stdexcept>

namespace kunci::test {

namespace fs = std::filesystem;

fs::path copySoftHsmTokens(const SoftHsm& hsm, const fs::path& dir) {
    fs::remove_all(dir);
    fs::create_directory(dir);
    fs::copy(hsm.tokenDir(), dir / "tokens", fs::copy_options::recursive);
    const fs::path conf = dir / "softhsm2.conf";
    std::ofstream out(conf, std::ios::binary | std::ios::trunc);
    out << "directories.tokendir = " << (dir / "tokens").string()
        << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    if (!out) {
        throw std::runtime_error("cannot write " + conf.string());
    }
    return conf;
}

std::map<std::string, std::string> SoftHsmToken::readerEnv(const fs::path& scratch) const {
    return {{"SOFTHSM2_CONF", copySoftHsmTokens(hsm_, scratch).string()}};
}

}  // namespace kunci::test
