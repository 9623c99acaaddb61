// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <vector>

namespace kunci::agent::platform {

/** GetExtendedTcpTable's table of family (AF_INET or AF_INET6) and tableClass
 *  (TCP_TABLE_CLASS, e.g. TCP_TABLE_OWNER_PID_ALL) as raw bytes; empty when it cannot be read. */
std::vector<unsigned char> tcpTable(unsigned long family, int tableClass);

}  // namespace kunci::agent::platform
