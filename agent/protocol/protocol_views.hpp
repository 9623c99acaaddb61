// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <vector>

#include "agent/renewal/renewal.hpp"
#include "agent/renewal/renewal_engine.hpp"
#include "agent/signing/signing.hpp"
#include "agent/tokens/token_registry.hpp"
#include "agent/tokens/token_service.hpp"
#include "ipc/jsonrpc.hpp"

/** The domain's results as the protocol shows them (protocol section 4): each method's result
 *  object, field names as the protocol spells them. */
namespace kunci::agent {

/** One token (`tokens.list`, `tokens.changed`). */
ipc::Json tokenView(const TokenDescription& token);
ipc::Json tokenView(const TokenRef& token);
/** One certificate (`certificates.list`, `renewal.complete`). */
ipc::Json certificateView(const CertificateView& certificate);
/** One renewal (`renewal.list`, `renewal.cancel`, `renewal.retire`). */
ipc::Json renewalView(const Renewal& renewal);

ipc::Json agentInfoResult(const AgentInfo& info);
/** {"tokens": [...]}: `tokens.list`'s result and `tokens.changed`'s params. */
ipc::Json tokensResult(const std::vector<TokenDescription>& tokens);
ipc::Json certificatesResult(const std::vector<CertificateView>& certificates);
ipc::Json renewalsResult(const std::vector<Renewal>& renewals);
ipc::Json beginResult(const BeginResult& result);
/** {"certificate": ...} (`renewal.complete`). */
ipc::Json completeResult(const CertificateView& certificate);
/** {"renewal": ...} (`renewal.cancel`, `renewal.retire`). */
ipc::Json renewalResult(const Renewal& renewal);
ipc::Json signResult(const SignResult& result);

}  // namespace kunci::agent
