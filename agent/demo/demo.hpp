// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/options.hpp"
#include "agent/demo/demo_ca.hpp"
#include "agent/demo/demo_token.hpp"
#include "ipc/dispatcher.hpp"

/** `kunci-agent --demo`: a SoftHSM token with an expiring certificate, a throwaway CA that
 *  answers `demo.issue`, and (in kunci-agent, see demo_page.hpp) the demo page, so that a
 *  renewal completes in the browser with nothing else installed. Nothing here runs without
 *  --demo. */
namespace kunci::agent::demo {

/** The SoftHSM module --demo loads when no --module is named. */
std::string defaultModulePath();

/** The settings --demo runs with: a state directory that is never the agent's own (unless
 *  --state-dir names another on the command line, $XDG_STATE_HOME/kunci-demo or
 *  ~/.local/state/kunci-demo, whatever a configuration file says), and the modules --module
 *  names on the command line, else SoftHSM's. Throws UsageError when no directory can be
 *  derived. */
Options demoOptions(Options options, const EnvLookup& env);

/** Registers the demo-only method `demo.issue` {"csr": PEM} -> {"certificate": PEM,
 *  "chain": [PEM]}: ca signs the request (-32602, field "csr", for one it refuses). ca must
 *  outlive the dispatcher's use. */
void registerIssue(ipc::Dispatcher& dispatcher, const DemoCa& ca,
                   std::function<void(std::string_view)> log);

/** What --demo sets up in the state directory before the agent loads its modules:
 *  softhsm2.conf and tokens/ (SOFTHSM2_CONF pointed there), the CA in ca/, and the token. */
class Demo {
public:
    using Log = std::function<void(std::string_view)>;

    /** Call before any PKCS#11 module loads and before any thread starts (it sets
     *  SOFTHSM2_CONF), with options from demoOptions, once the state directory is locked (the
     *  journal holds it). Throws std::runtime_error (or a subclass) naming what failed. */
    Demo(const Options& options, Log log);

    const DemoCa& ca() const { return ca_; }
    const DemoToken& token() const { return token_; }
    const std::filesystem::path& directory() const { return dir_; }

    /** Registers demo.issue. */
    void registerWith(ipc::Dispatcher& dispatcher) const;

    /** The lines to print once listening: first "kunci-agent demo: open http://HOST:PORT/ in
     *  your browser", then the token's PINs and where the demo keeps its files. */
    std::vector<std::string> banner(const std::string& listenHost, std::uint16_t port) const;

private:
    std::filesystem::path dir_;
    std::filesystem::path softHsmConf_;
    Log log_;
    DemoCa ca_;
    DemoToken token_;
};

}  // namespace kunci::agent::demo
